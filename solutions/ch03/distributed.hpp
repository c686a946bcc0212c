// solutions/ch03/distributed.hpp — distributed data parallelism with MPI.
//
// Every rank (process) holds a full replica of the model. Rank 0's initial weights are broadcast.
// A global batch of n = (per-rank batch) x (world size) samples is cut into one shard per rank
// (sizes within one; the last batch of an epoch may be smaller, and shards may be empty); the
// shuffle is seeded identically everywhere, so every rank knows every shard without talking.
// Rank r computes the mean gradient g_r of its n_r samples (with chapter 02's threads inside the
// rank), scales it by n_r / n, and the ranks sum the scaled gradients (allreduce):
//
//     g = sum_r (n_r / n) g_r      — chapter 02's identity, with ranks for shards.
//
// Every rank then applies the same update to the same weights with the same gradient, so the
// replicas stay bit-identical; check_replicas() verifies it.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ch02/data_parallel.hpp"
#include "ch03/gradient_buckets.hpp"
#include "ptt/data.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "ptt/timer.hpp"

namespace ptt::ch03 {

/// How the gradients are summed over the ranks.
enum class AllreduceKind {
  Mpi,       ///< MPI_Allreduce on the whole buffer, after the backward pass
  Ring,      ///< our ring_allreduce on the whole buffer, after the backward pass
  Bucketed,  ///< MPI_Iallreduce per bucket of layers, started during the backward pass
};

/// Gradient buckets: consecutive layers from the top, each bucket at least bucket_bytes (the last
/// may be smaller). As soon as the backward pass has finished the lowest layer of a bucket, its
/// non-blocking allreduce starts, overlapping the communication of the upper layers with the
/// computation of the lower ones.
class BucketedAllreduce {
 public:
  BucketedAllreduce(const ParamLayout& layout, std::size_t bucket_bytes, MPI_Comm comm);
  /// Starts a step: @p grads will receive the gradient, to be scaled by @p weight (n_r / n).
  void start(std::span<float> grads, float weight);
  /// The backward pass finished layer @p l: scale it; if it closes a bucket, start that bucket's
  /// MPI_Iallreduce; let MPI progress the ones in flight.
  void layer_done(int l);
  /// Waits for every bucket. Afterwards grads holds the global gradient.
  void finish();
  std::size_t buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    int lowest_layer;
    std::size_t begin, end;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  const ParamLayout& layout_;
  MPI_Comm comm_;
  std::vector<Bucket> buckets_;
  std::span<float> grads_;
  float weight_ = 1.0f;
};

/// Options of the distributed step.
struct Options {
  AllreduceKind allreduce = AllreduceKind::Mpi;
  std::size_t bucket_bytes = 256 * 1024;
  int threads = 1;  ///< OpenMP threads inside each rank (chapter 02's fast mode)
};

/// The result of one step, identical on every rank.
struct StepResult {
  float loss = 0.0f;        ///< mean loss over the global batch
  std::size_t correct = 0;  ///< correct predictions over the global batch
};

/// One distributed training step on every rank.
class DistributedStep {
 public:
  DistributedStep(const ParamLayout& layout, const Options& options, MPI_Comm comm);

  /// @brief Every rank calls this with the SAME global batch indices; rank r gathers and trains on
  /// its shard, the gradients are allreduced, and the optimizer updates every replica.
  /// @param params    this rank's replica (updated).
  /// @param grads     scratch; holds the global mean gradient on return.
  /// @param data      the training set (every rank has it).
  /// @param batch     the global batch's sample indices.
  /// @param optimizer the update (null: compute the gradient only).
  /// @param timer     data, forward, backward, reduce and update times are added to it (may be null).
  StepResult step(std::span<float> params, std::span<float> grads, const Dataset& data,
                  std::span<const std::uint32_t> batch, Optimizer* optimizer, PhaseTimer* timer);

 private:
  const ParamLayout& layout_;
  Options options_;
  MPI_Comm comm_;
  int rank_ = 0, world_ = 1;
  ch02::DataParallel threads_;
  BucketedAllreduce buckets_;
  Workspace ws_;
  Matrix x_;
  std::vector<std::uint8_t> y_;
};

/// @brief Sums @p data over the ranks with MPI_Allreduce (in place).
void mpi_allreduce(std::span<float> data, MPI_Comm comm);

}  // namespace ptt::ch03
