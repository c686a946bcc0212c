// Chapter 02's step of the core's training loop (see data_parallel_step.hpp).
#include "ch02/data_parallel_step.hpp"

#include "ptt/error.hpp"

namespace ptt::ch02 {

DataParallelStep::DataParallelStep(Mlp& model, const Dataset& train, const TrainConfig& cfg,
                                   const Options& options)
    : model_(model),
      train_(train),
      optimizer_(make_optimizer(cfg.optimizer, model.params.size(), cfg.lr, cfg.momentum)),
      parallel_(model.layout, options) {}

StateView DataParallelStep::host_state() {
  return {model_.params, optimizer_->state(), optimizer_->steps_taken()};
}

void DataParallelStep::push_state(long optimizer_steps) { optimizer_->set_steps_taken(optimizer_steps); }

//! [data_parallel_step]
void DataParallelStep::step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) {
  optimizer_->set_lr(ctx.lr);
  {
    auto t = ctx.phases.scope(Phase::Data);
    gather(train_, batch, x_, y_);
  }
  // [ch02] shards in parallel, gradients combined with weights n_k / n, the update in parallel;
  // forward, backward, reduce and update are booked by DataParallel, inside its parallel region.
  const float loss = parallel_.step(model_.params, x_, y_, model_.grads, optimizer_.get(), &ctx.phases);
  if (parallel_.update_skipped()) {  // NaN/Inf: the threads kept the parameters as they were
    ctx.guard.check(loss, model_.grads, ctx.step, ctx.epoch);  // throws, naming the step and the layer
    PTT_CHECK(false, "the update was skipped, but the guard finds the loss and the gradient finite");
  }
  stats.add(loss, parallel_.last_correct(), y_.size());
}
//! [data_parallel_step]

}  // namespace ptt::ch02
