// contracts/ch02/parallel_gradient.hpp — chapter 02's parallel region: the threads of one OpenMP
// region compute the shards' gradients, each into its own padded buffer, and then combine the
// buffers. The solution (solutions/ch02/parallel_gradient.cpp) and your exercise
// (exercises/ch02/parallel_gradient.cpp, TODO(02.4), with the GradientBuffers constructor) both
// implement it. DataParallel::step (solutions/ch02/data_parallel.cpp) runs it for --reduce
// buffers, the trainer's default, in fast and in deterministic mode, and runs its own timing,
// divergence guard and update inside the same region through RegionHooks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ch02/gradient_buffers.hpp"
#include "ch02/shards.hpp"
#include "ptt/data.hpp"
#include "ptt/mlp.hpp"
#include "ptt/tensor.hpp"
#include "ptt/timer.hpp"

namespace ptt::ch02 {

/// Chunk of the parameter buffer one combination task handles: fixed, so that the split of the
/// work (and therefore the rounding) never depends on the thread count.
inline constexpr std::size_t kCombineChunk = 4096;

/// Per-shard results of one step, each on its own cache line.
struct alignas(64) ShardStats {
  float loss = 0.0f;
  std::size_t correct = 0;
};

/// A batch cut into K shards, as one step sees it.
struct ShardedBatch {
  ConstMatrixRef x;                 ///< [n, inputs] the batch
  std::span<const std::uint8_t> y;  ///< [n] its labels
  std::span<const Range> shards;    ///< K contiguous shards covering [0, n) in order (split_batch);
                                    ///< shard 0 is not empty, the last ones may be
  std::span<const float> weights;   ///< [K] w_k = n_k / n (shard_weights)
};

/// What shard k owns, and nobody else writes: buffers[k], workspaces[k], stats[k].
struct ShardMemory {
  GradientBuffers& buffers;         ///< K buffers of the parameters' length
  std::span<Workspace> workspaces;  ///< [K] a shard's activations and deltas
  std::span<ShardStats> stats;      ///< [K] a shard's mean loss and correct predictions
};

/// @brief The caller's work inside the region. The trainer books its phase times here, runs its
/// divergence guard on each combined chunk, and makes its update at the end of the region, so
/// that one fork and join serves the whole step. Every hook does nothing unless overridden.
class RegionHooks {
 public:
  virtual ~RegionHooks() = default;
  /// Called by thread 0 alone, after the barrier that ends @p phase: Forward, Backward, Reduce.
  virtual void phase_done(Phase phase) { (void)phase; }
  /// Called once per chunk grads[begin, end), by the thread that has just combined it.
  virtual void combined(std::size_t begin, std::size_t end) {
    (void)begin;
    (void)end;
  }
  /// Called once by every thread of the region, after the barrier that ends the combination.
  /// (The trainer's update runs OpenMP worksharing loops here: every thread must arrive.)
  virtual void region_end() {}
};

/// @brief The gradient of one batch, computed shard by shard in ONE OpenMP parallel region of
/// exactly @p threads threads, then combined: grads = sum_k w_k g_k.
///
/// In the region, in this order, each phase ending with a barrier and hooks.phase_done(phase):
/// 1. Forward: the shards are shared among the threads; shard k runs mlp_forward on its rows of
///    x into workspaces[k]. Empty shards are skipped.
/// 2. Backward: shard k's mean gradient g_k goes into buffers[k] (mlp_backward), its mean loss
///    into stats[k].loss and its correct predictions (count_correct) into stats[k].correct.
///    Every shard writes only its own buffer: no two threads ever write the same float, and,
///    the buffers being padded (GradientBuffers), the same cache line.
/// 3. Reduce: the parameters are cut into chunks [c * kCombineChunk, min(P, (c + 1) *
///    kCombineChunk)), c = 0, 1, ..., the last one shorter; the chunks are shared among the
///    threads, and each chunk is combined with the shards in index order (combine_range, TODO
///    02.3), then handed to hooks.combined(begin, end). Share the chunks with a static schedule:
///    the trainer's update, in hooks.region_end(), then gives each thread the chunks it has just
///    combined, still in its cache.
/// Last, every thread calls hooks.region_end() once.
///
/// Postconditions:
/// - grads equals the batch's mean gradient of chapter 01 up to float rounding, and stats[k]
///   holds shard k's loss and count, for every non-empty shard;
/// - the bits of grads do not depend on @p threads: for the same shards, 1, 2, 3, ... threads
///   give the same floats (the deterministic mode promises the same param_checksum for any
///   --threads). The order of the additions for one element must never depend on the number
///   of threads, nor on which thread runs first; OpenMP's reduction clause promises no order;
/// - the buffers, workspaces and stats of empty shards are neither read nor written (an empty
///   shard's buffer holds garbage, perhaps NaN).
/// @param layout  the network's shape.
/// @param params  the parameters every shard uses (read only in the region; a hook may update them
///                in region_end(), after the last read).
/// @param batch   the batch, its K shards and their weights.
/// @param memory  K buffers, workspaces and stats, one of each per shard.
/// @param grads   [P] overwritten with the combined gradient (P = layout.size()).
/// @param threads the number of threads of the region (>= 1); K may be smaller, equal or larger.
/// @param hooks   the caller's work inside the region.
void parallel_gradient(const ParamLayout& layout, std::span<const float> params, const ShardedBatch& batch,
                       const ShardMemory& memory, std::span<float> grads, int threads, RegionHooks& hooks);

}  // namespace ptt::ch02
