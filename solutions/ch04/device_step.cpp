// Chapter 04's step for the core's loop (see device_step.hpp).
#include "ch04/device_step.hpp"

#include <cmath>

namespace ptt::ch04 {

namespace {
DeviceOptions with_optimizer(DeviceOptions options, const TrainConfig& cfg) {
  options.optimizer = cfg.optimizer;
  options.momentum = static_cast<float>(cfg.momentum);
  return options;
}
}  // namespace

DeviceStep::DeviceStep(Mlp& model, const Dataset& train, const TrainConfig& cfg, const DeviceOptions& options)
    : model_(model),
      cfg_(cfg),
      gpu_(model.layout, cfg.batch_size, with_optimizer(options, cfg)),
      state_((cfg.optimizer == "adam" ? 2 : 1) * model.params.size(), 0.0f) {
  gpu_.upload_train_set(train);  // once: every step gathers its batch on the device
}

StateView DeviceStep::host_state() { return {model_.params, state_, optimizer_steps_}; }

void DeviceStep::push_state(long optimizer_steps) {
  optimizer_steps_ = optimizer_steps;
  gpu_.upload_params(model_.params, state_);
}

void DeviceStep::pull_state() { gpu_.download_params(model_.params, state_, model_.grads); }

void DeviceStep::start_epoch(const EpochPlan& plan) {
  // The epoch's sample order and per-step learning rates go to the device before its steps.
  std::vector<std::uint32_t> order;
  for (std::size_t i = 0; i < plan.sampler.num_batches(); ++i) {
    const auto idx = plan.sampler.batch(i);
    order.insert(order.end(), idx.begin(), idx.end());
  }
  gpu_.start_epoch(order,
                   step_hyper_table(cfg_.optimizer, cfg_.lr_schedule, cfg_.lr, plan.first_step,
                                    static_cast<long>(plan.sampler.num_batches()), plan.total_steps),
                   static_cast<int>(plan.first_batch));
  reported_ = {};
  since_flush_.reset();
}

void DeviceStep::step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& /*stats*/) {
  gpu_.step(static_cast<int>(batch.size()));  // enqueued, not waited for (lr: from the epoch's table)
  optimizer_steps_ = ctx.step;
  ++unchecked_;
}

void DeviceStep::flush(const StepContext& ctx, EpochStats& stats) {
  const EpochStats sums = gpu_.sums();                  // waits for every step enqueued so far
  ctx.phases.add(Phase::Step, since_flush_.seconds());  // one fused phase: the device's steps
  since_flush_.reset();
  EpochStats fresh;
  fresh.loss_sum = sums.loss_sum - reported_.loss_sum;
  fresh.correct = sums.correct - reported_.correct;
  fresh.samples = sums.samples - reported_.samples;
  reported_ = sums;
  stats.loss_sum += fresh.loss_sum, stats.correct += fresh.correct, stats.samples += fresh.samples;
  // The guard: the loss sum is NaN/Inf if any step's was; the last step's gradient names the layer.
  if (unchecked_ == 0) return;
  unchecked_ = 0;
  gpu_.download_params({}, {}, model_.grads);
  ctx.guard.check(static_cast<float>(std::isfinite(sums.loss_sum) ? fresh.loss() : sums.loss_sum),
                  model_.grads, ctx.step, ctx.epoch);
}

}  // namespace ptt::ch04
