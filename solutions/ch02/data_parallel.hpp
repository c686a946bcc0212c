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
// split. One optimizer update follows, as in chapter 01.
//
// Two modes:
//   fast           K = number of threads; the shard boundaries, and so the float rounding,
//                  depend on the thread count.
//   deterministic  K fixed (independent of the thread count), combined in shard order in
//                  fixed-size chunks: bit-identical results for 1, 2, 3, ... threads.
//
// And one way to need no buffers at all (Reduction::Owner, fast mode only): with each shard's
// output gradient scaled by w_k, sum_k w_k g_k is ONE product over the whole batch, and each
// thread computes its own rows of it (step_owner()). The thread owns the same neurons in the
// forward pass, which it computes over the whole batch too: a hybrid of data parallelism and
// chapter 05's column-parallel layer, in shared memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ptt/data.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "ptt/timer.hpp"

namespace ptt::ch02 {

/// How the shard gradients are combined.
enum class Reduction {
  Buffers,   ///< per-shard padded buffers, summed in parallel over parameter chunks (the right way)
  Atomic,    ///< every thread adds into one shared buffer with one `omp atomic` per element
  Critical,  ///< every thread adds into one shared buffer inside one `omp critical` section
  Owner,     ///< no buffers, nothing to combine: each thread owns a block of neurons (rows of
             ///< every W and b) and computes their activations and gradients over the whole
             ///< batch (see step_owner())
};

/// One gradient buffer per shard. Each buffer starts on its own 64-byte cache line and its length
/// is padded to whole cache lines, so two threads never write to the same line (no false sharing).
class GradientBuffers {
 public:
  static constexpr std::size_t kLineFloats = 64 / sizeof(float);
  GradientBuffers(std::size_t count, std::size_t length);
  std::span<float> operator[](std::size_t k) { return {data_.get() + k * stride_, length_}; }
  std::span<const float> operator[](std::size_t k) const { return {data_.get() + k * stride_, length_}; }
  std::size_t count() const { return count_; }
  std::size_t length() const { return length_; }
  /// Floats from one buffer's start to the next: length rounded up to a whole cache line.
  std::size_t stride() const { return stride_; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::size_t count_, length_, stride_;
  std::unique_ptr<float[], Free> data_;
};

// --- the exercise: TODO(02.1) and TODO(02.2) live in exercises/ch02/shards.cpp ----------------

/// @brief Splits a batch of @p batch rows into @p shards contiguous shards whose sizes differ by
/// at most one (the first batch % shards get one extra row). Shards are empty when batch < shards.
std::vector<Range> split_batch(std::size_t batch, int shards);

/// @brief The combination weights w_k = n_k / n of shards of sizes n_k (summing to n > 0).
std::vector<float> shard_weights(std::span<const Range> shards);

/// @brief out[i] = sum_k w_k * g_k[i] for i in [begin, end), adding shards in index order k = 0, 1, ...
/// so the result never depends on which thread runs it.
void combine_range(const GradientBuffers& g, std::span<const float> weights, std::span<float> out,
                   std::size_t begin, std::size_t end);

// --- the data-parallel gradient ---------------------------------------------------------------

struct Options {
  int threads = 1;             ///< OpenMP threads
  bool deterministic = false;  ///< fixed shards, fixed combination order
  int shards = 8;              ///< number of shards in deterministic mode
  Reduction reduction = Reduction::Buffers;
};

/// Per-shard results of one step, each on its own cache line.
struct alignas(64) ShardStats {
  float loss = 0.0f;
  std::size_t correct = 0;
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
  ///                  parameters it just combined (element-wise, so the bits equal a serial step).
  /// @param timer     forward, backward, reduce and update times are added to it (may be null).
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
  int shard_count() const { return static_cast<int>(buffers_.count()); }
  const Options& options() const { return options_; }

 private:
  /// @brief step() for Reduction::Owner: "owner computes" instead of "compute, then combine".
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
  /// is written, read back or combined.
  /// @param params    the parameters; updated when @p optimizer is given.
  /// @param x         [n, inputs] the batch.
  /// @param y         [n] its labels.
  /// @param grads     overwritten with the mean gradient over the whole batch.
  /// @param optimizer if not null, applied to params after the last layer.
  /// @param timer     forward, backward and update times are added to it (may be null).
  /// @return the batch's mean loss.
  float step_owner(std::span<float> params, ConstMatrixRef x, std::span<const std::uint8_t> y,
                   std::span<float> grads, Optimizer* optimizer, PhaseTimer* timer);

  /// @brief The optimizer update, split over fixed chunks of the parameters among the threads of
  /// the enclosing parallel region (an orphaned worksharing loop: call it from every thread).
  /// Element-wise, so the bits equal a serial update of the same gradient.
  /// @param params    the parameters to update.
  /// @param grads     the combined gradient.
  /// @param optimizer the optimizer; begin_step() runs once, before any chunk.
  void parallel_update(std::span<float> params, std::span<const float> grads, Optimizer& optimizer);

  /// @brief The batch loss sum_k (n_k / n) loss_k in shard order; also sets last_correct().
  /// @param shards  the step's shards.
  /// @param weights their weights n_k / n.
  /// @return the batch's mean loss.
  float batch_loss(std::span<const Range> shards, std::span<const float> weights);

  const ParamLayout& layout_;
  Options options_;
  GradientBuffers buffers_;
  std::vector<Workspace> workspaces_;
  Workspace shared_;  ///< Reduction::Owner: the whole batch's activations and deltas (thread t writes columns r_t of the activations, shard k rows s_k of the deltas)
  std::vector<ShardStats> stats_;
  std::size_t correct_ = 0;
};

/// Chunk of the parameter buffer one combination task handles: fixed, so that the split of the
/// work (and therefore the rounding) never depends on the thread count.
inline constexpr std::size_t kCombineChunk = 4096;

}  // namespace ptt::ch02
