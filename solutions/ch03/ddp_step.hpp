// solutions/ch03/ddp_step.hpp — chapter 03's step for the core's training loop: distributed data
// parallelism (DDP), one full replica per MPI rank.
//
// Every rank draws the same global batch (the loop's sampler is seeded identically everywhere),
// trains on its shard of it (ch03::DistributedStep: forward, backward, allreduce of the weighted
// gradients), then checks the allreduced gradient for NaN/Inf and applies the same update to the
// same weights: the replicas stay bit-identical, which check_replicas() verifies every
// --check-every steps and at the end.
#pragma once

#include <mpi.h>

#include <memory>

#include "ch03/distributed.hpp"
#include "ptt/train.hpp"

namespace ptt::ch03 {

class DdpStep final : public StepStrategy {
 public:
  /// @param model       the run's model (every rank's replica), trained in place.
  /// @param train       the training set (every rank has all of it, and gathers its shard).
  /// @param cfg         --optimizer, --lr, --momentum.
  /// @param options     the allreduce, its buckets, the threads inside a rank.
  /// @param check_every compare the replicas' checksums every N steps (0: only at the end).
  /// @param comm        the ranks.
  DdpStep(Mlp& model, const Dataset& train, const TrainConfig& cfg, const Options& options, int check_every,
          MPI_Comm comm);
  StateView host_state() override;
  /// Rank 0's parameters everywhere (MPI_Bcast), and the optimizer's update count.
  void push_state(long optimizer_steps) override;
  void step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) override;
  /// The replicas must be identical at the end.
  void finish(Reporter& report) override;

 private:
  Mlp& model_;
  const Dataset& train_;
  std::unique_ptr<Optimizer> optimizer_;
  DistributedStep distributed_;
  int check_every_;
  MPI_Comm comm_;
};

}  // namespace ptt::ch03
