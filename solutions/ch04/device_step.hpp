// solutions/ch04/device_step.hpp — chapter 04's step for the core's training loop: every step on
// the GPU (ch04::DeviceTrainer), enqueued without waiting for it.
//
// The host learns a step's loss only when it asks (flush(): one wait for the device), so the loop
// asks every few steps while a progress bar is shown, before every checkpoint and at each epoch's
// end. The divergence guard runs there: a non-finite loss sum, or a non-finite gradient of the
// last step, stops the run before a checkpoint or the final result is written — with no host
// synchronisation per step.
#pragma once

#include <span>
#include <vector>

#include "ch04/device_trainer.hpp"
#include "ptt/train.hpp"

namespace ptt::ch04 {

class DeviceStep final : public StepStrategy {
 public:
  /// @param model   the run's model: its initial parameters go to the device, and the device's
  ///                state comes back into it (pull_state) for evaluation and checkpoints.
  /// @param train   the training set, uploaded once.
  /// @param cfg     --optimizer, --lr, --lr-schedule, --batch-size.
  /// @param options the GEMM kernel, CUDA graph on or off, the optimizer.
  DeviceStep(Mlp& model, const Dataset& train, const TrainConfig& cfg, const DeviceOptions& options);
  StateView host_state() override;
  void push_state(long optimizer_steps) override;
  void pull_state() override;
  void start_epoch(const EpochPlan& plan) override;
  void step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) override;
  bool stats_each_step() const override { return false; }
  void flush(const StepContext& ctx, EpochStats& stats) override;

 private:
  Mlp& model_;
  TrainConfig cfg_;
  DeviceTrainer gpu_;
  std::vector<float> state_;  ///< the optimizer's state in the host layout (for checkpoints)
  long optimizer_steps_ = 0;
  EpochStats reported_;    ///< the device's sums already added to the loop's statistics
  Stopwatch since_flush_;  ///< the device time not yet booked
  long unchecked_ = 0;     ///< steps since the guard last ran
};

}  // namespace ptt::ch04
