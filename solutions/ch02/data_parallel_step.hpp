// solutions/ch02/data_parallel_step.hpp — chapter 02's step of the core's training loop
// (ptt/train.hpp): chapter 01's step with the batch split among OpenMP threads.
//
// Per step: gather the batch (one thread), then DataParallel::step(): forward and backward per
// shard, the gradients combined with weights n_k / n, and the update shared by the threads, made
// only when the loss and every gradient are finite. If they are not, the core's divergence guard
// names the step and the layer, and the run stops with the parameters of the step before.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ch02/data_parallel.hpp"
#include "ptt/train.hpp"

namespace ptt::ch02 {

/// Data parallelism on one machine as a StepStrategy. It trains the run's model in place: its
/// parameters are the model's buffer, and the optimizer's state is its own (host_state()).
class DataParallelStep : public StepStrategy {
 public:
  /// @param model   the model whose buffers this step trains in place.
  /// @param train   the training set the batches index.
  /// @param cfg     --optimizer, --lr, --momentum.
  /// @param options --threads, --deterministic, --shards, --reduce.
  DataParallelStep(Mlp& model, const Dataset& train, const TrainConfig& cfg, const Options& options);
  StateView host_state() override;
  void push_state(long optimizer_steps) override;
  void step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) override;

 private:
  Mlp& model_;
  const Dataset& train_;
  std::unique_ptr<Optimizer> optimizer_;
  DataParallel parallel_;
  Matrix x_;
  std::vector<std::uint8_t> y_;
};

}  // namespace ptt::ch02
