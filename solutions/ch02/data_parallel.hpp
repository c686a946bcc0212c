// solutions/ch02/data_parallel.hpp — data parallelism on one machine, with OpenMP.
//
// A mini-batch of n samples is split into K shards of n_k samples. Every shard runs forward and
// backward against the SAME parameters into its OWN gradient buffer g_k (the mean over its
// samples); the buffers are then combined with weights n_k / n:
//
//     g = (1/n) sum_i grad l_i = sum_k (n_k / n) * [(1/n_k) sum_{i in shard k} grad l_i]
//       = sum_k (n_k / n) g_k,
//
// which is the full-batch gradient exactly (up to float rounding), however unevenly the batch is
// split. One optimizer update follows, as in chapter 01, shared by the threads; it runs only when
// the loss and every gradient are finite (the divergence guard's check, made inside the parallel
// region: each thread checks the part of the gradient it produced).
//
// Two modes:
//   fast           K = number of threads; the shard boundaries, and so the float rounding,
//                  depend on the thread count.
//   deterministic  K fixed (independent of the thread count), combined in shard order in
//                  fixed-size chunks: bit-identical results for 1, 2, 3, ... threads.
//
// And one way to need no buffers at all (Reduction::Owner, fast mode only; owner.cpp): with each
// shard's output gradient scaled by w_k, sum_k w_k g_k is ONE product over the whole batch, and
// each thread computes its own rows of it. The thread owns the same neurons in the forward pass,
// which it computes over the whole batch too: a hybrid of data parallelism and chapter 05's
// column-parallel layer, in shared memory.
//
// Files: data_parallel.cpp (the step: with buffers through parallel_gradient(), or atomic or
// critical; the guarded update), parallel_gradient.cpp (the padded buffers and the parallel
// region that fills and combines them: contracts/ch02/parallel_gradient.hpp, exercise 02.4),
// owner.cpp (Reduction::Owner), shards.cpp (the split and the combination:
// contracts/ch02/shards.hpp, exercises 02.1-02.3), data_parallel_step.hpp (all of it as a step of
// the core's training loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ch02/parallel_gradient.hpp"
#include "ch02/shards.hpp"
#include "ptt/data.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "ptt/timer.hpp"

namespace ptt::ch02 {

/// How the shard gradients are combined (--reduce).
enum class Reduction {
  Buffers,   ///< per-shard padded buffers, summed in parallel over parameter chunks (the right way)
  Atomic,    ///< every thread adds into one shared buffer with one `omp atomic` per element
  Critical,  ///< every thread adds into one shared buffer inside one `omp critical` section
  Owner,     ///< no buffers, nothing to combine: each thread owns a block of neurons (rows of
             ///< every W and b) and computes their activations and gradients over the whole
             ///< batch (see step_owner())
};

/// The flag value of @p reduction: "buffers", "atomic", "critical" or "owner".
const char* reduction_name(Reduction reduction);

// --- the data-parallel gradient ---------------------------------------------------------------

struct Options {
  int threads = 1;             ///< OpenMP threads
  bool deterministic = false;  ///< fixed shards, fixed combination order
  int shards = 8;              ///< number of shards in deterministic mode
  Reduction reduction = Reduction::Buffers;
  /// The shards of a batch: --shards in deterministic mode, one per thread otherwise.
  int shard_count() const { return deterministic ? shards : threads; }
};

/// Everything one data-parallel step needs, allocated once and reused.
class DataParallel {
 public:
  DataParallel(const ParamLayout& layout, const Options& options);

  /// @brief Forward, backward, gradient combination and (optionally) the update of one batch,
  /// all in parallel.
  /// @param params    the parameters every shard uses; updated when @p optimizer is given.
  /// @param x         [n, inputs] the batch.
  /// @param y         [n] its labels.
  /// @param grads     overwritten with the mean gradient over the whole batch.
  /// @param optimizer if not null, applied to params, each thread updating the chunks of the
  ///                  parameters it just combined (element-wise, so the bits equal a serial step),
  ///                  but only when the loss and every gradient are finite: otherwise params and
  ///                  the optimizer are left as they were and update_skipped() is true.
  /// @param timer     the phases this reduction has (forward, backward, reduce for the buffers,
  ///                  update with an optimizer) get their times added (may be null).
  /// @return the batch's mean loss.
  float step(std::span<float> params, ConstMatrixRef x, std::span<const std::uint8_t> y,
             std::span<float> grads, Optimizer* optimizer, PhaseTimer* timer);

  /// The gradient alone (step() without an optimizer).
  float gradient(std::span<float> params, ConstMatrixRef x, std::span<const std::uint8_t> y,
                 std::span<float> grads, PhaseTimer* timer) {
    return step(params, x, y, grads, nullptr, timer);
  }

  /// Correct predictions in the last batch (from the shards' logits).
  std::size_t last_correct() const { return correct_; }
  /// True when the last step() had an optimizer but did not update, because its loss or
  /// gradient held NaN or Inf (the caller's divergence guard then names the step and the layer).
  bool update_skipped() const { return update_skipped_; }
  int shard_count() const { return static_cast<int>(buffers_.count()); }

 private:
  /// @brief step() for Reduction::Owner (owner.cpp): "owner computes" instead of "compute, then
  /// combine".
  ///
  /// Thread t owns the block r_t of neurons (rows of W_l and b_l) of every layer. Forward,
  /// layer by layer, with one barrier after each:
  ///   a_{l+1}[:, r_t] = relu(a_l W_l[r_t, :]^T + b_l[r_t])
  /// over the WHOLE batch, into one shared workspace (a GEMM over all n rows runs faster per row
  /// than one over n/T: see ch02_gemm_shape). The loss runs per shard, and each shard's loss
  /// gradient is scaled by w_k = n_k / n at once: the stacked rows are then the full batch's
  /// delta_L. Backward, layer by layer, with one barrier after each:
  ///   dW_l[r_t, :] = delta_{l+1}[:, r_t]^T a_l,  db_l[r_t] = column sums of delta_{l+1}[:, r_t]
  /// over the whole batch, straight into @p grads; and delta_l = (delta_{l+1} W_l) * 1[a_l > 0]
  /// for the thread's own shard rows (it needs every neuron of a sample). The sum over shards,
  /// g = sum_k w_k g_k, happens inside the GEMM's inner dimension: no per-thread gradient buffer
  /// is written, read back or combined. Each thread checks the rows it wrote for the guard.
  /// @param params    the parameters; updated when @p optimizer is given (and all is finite).
  /// @param x         [n, inputs] the batch.
  /// @param y         [n] its labels.
  /// @param grads     overwritten with the mean gradient over the whole batch.
  /// @param optimizer if not null, applied to params after the last layer.
  /// @param timer     forward, backward and update times are added to it (may be null).
  /// @return the batch's mean loss.
  float step_owner(std::span<float> params, ConstMatrixRef x, std::span<const std::uint8_t> y,
                   std::span<float> grads, Optimizer* optimizer, PhaseTimer* timer);

  /// @brief step() for Reduction::Atomic and Reduction::Critical: the shards' gradients added
  /// into one shared buffer (@p grads) as soon as each is computed, with one `omp atomic` per
  /// element or inside one `omp critical` section. The comparison the README measures.
  float step_shared(std::span<float> params, ConstMatrixRef x, std::span<const std::uint8_t> y,
                    std::span<float> grads, Optimizer* optimizer, PhaseTimer* timer);

  /// The trainer's side of parallel_gradient()'s region (Reduction::Buffers): the phase times,
  /// the guard's check of each combined chunk, and finish_step() (data_parallel.cpp).
  class StepHooks;

  /// @brief The guard's part inside the parallel region: flags the step as not finite when
  /// @p values (the part of the gradient the calling thread produced) holds NaN or Inf.
  void check_finite(std::span<const float> values);

  /// @brief The end of a step, for every thread of the enclosing parallel region once the
  /// gradient is complete and checked (orphaned worksharing constructs: call it from every
  /// thread). One thread sums the loss (batch_loss()); then, with an optimizer, and only when
  /// the loss and every gradient are finite, the update, split over fixed chunks of the
  /// parameters. Element-wise, so the bits equal a serial update of the same gradient.
  /// @param params    the parameters to update.
  /// @param grads     the combined gradient.
  /// @param optimizer the optimizer, or null (gradient() only); begin_step() runs once, before any chunk.
  /// @param shards    the step's shards, and @p weights their weights n_k / n.
  void finish_step(std::span<float> params, std::span<const float> grads, Optimizer* optimizer,
                   std::span<const Range> shards, std::span<const float> weights);

  /// @brief The batch loss sum_k (n_k / n) loss_k in shard order; also sets last_correct().
  /// @param shards  the step's shards.
  /// @param weights their weights n_k / n.
  /// @return the batch's mean loss.
  float batch_loss(std::span<const Range> shards, std::span<const float> weights);

  const ParamLayout& layout_;
  Options options_;
  GradientBuffers buffers_;  ///< one per shard (Reduction::Owner: empty ones, it needs none)
  std::vector<Workspace> workspaces_;
  /// Reduction::Owner: the whole batch's activations and deltas (thread t writes columns r_t of
  /// the activations, shard k rows s_k of the deltas).
  Workspace shared_;
  std::vector<ShardStats> stats_;
  float loss_ = 0.0f;
  std::size_t correct_ = 0;
  int not_finite_ = 0;  ///< set inside the region by any thread that found NaN or Inf
  bool update_skipped_ = false;
};

}  // namespace ptt::ch02
