// contracts/ch08/memory.hpp — chapter 08's second contract: the memory one worker of a
// dp x pp x tp grid needs, with ZeRO. The solution (solutions/ch08/memory.cpp) and your exercise
// (exercises/ch08/memory.cpp, TODO(08.2)) both implement memory_per_worker().
//
// Let psi be the parameters the worker's part holds (its stage, its tensor-parallel slice:
// chapter 06's Psi_r), and k the optimizer's fp32 state floats per parameter (1: SGD's velocity,
// 2: Adam's m and v). Bytes per parameter, before sharding:
//
//   fp32:   parameters 4, gradients 4, optimizer state 4k                     (chapter 06)
//   mixed:  parameters 2 (fp16/bf16), gradients 2, optimizer state K = 4 + 4k: an fp32 master
//           copy of the parameters plus the k fp32 states (K = 12 for Adam, as in the ZeRO
//           paper, Rajbhandari et al. 2020, section 3.1).
//
// ZeRO shards over the dp replicas: stage 1 divides the optimizer state by dp (chapter 06's
// ZeRO-1), stage 2 also the gradients, stage 3 also the parameters. Stage 0 divides nothing.
// A shard is whole parameters: when psi is not a multiple of dp, chapter 06 gives the first
// psi mod dp ranks one parameter more, so the worker that needs the most holds ceil(psi / dp).
// (The ZeRO paper's figures divide exactly: 7.5 B parameters over 64 devices.)
//
// Activations are computed by the cost model (held micro-batches x rows x widths) and added as
// they are: ZeRO does not shard them.
#pragma once

namespace ptt::ch08 {

/// Number format of the step: fp32 everywhere, or mixed precision (16-bit params and grads, fp32 master).
enum class Precision { fp32, mixed };

/// What one worker holds, before ZeRO.
struct MemoryInputs {
  double params = 0;   ///< psi: parameters of this worker's part (its stage, its tp slice)
  int dp = 1;          ///< data-parallel replicas (the ZeRO group)
  int zero_stage = 0;  ///< 0, 1, 2 or 3
  Precision precision = Precision::fp32;
  int optimizer_k = 1;          ///< fp32 state floats per parameter: 1 SGD momentum, 2 Adam
  double activation_bytes = 0;  ///< stored activations (peak), bytes
};

/// One worker's memory, bytes.
struct MemoryBreakdown {
  double params = 0;       ///< parameters (after ZeRO-3's sharding)
  double grads = 0;        ///< gradients (after ZeRO-2's)
  double optimizer = 0;    ///< optimizer state, with the fp32 master copy in mixed precision (after ZeRO-1's)
  double activations = 0;  ///< stored activations
  double buffers = 0;      ///< communication buffers the program keeps (the cost model adds them; 0 here)
  /// @brief The sum of the five.
  double total() const { return params + grads + optimizer + activations + buffers; }
};

/// @brief One worker's memory for @p in (the formulas above). @p in.zero_stage must be 0..3,
/// @p in.dp >= 1.
MemoryBreakdown memory_per_worker(const MemoryInputs& in);

}  // namespace ptt::ch08
