// Chapter 05's step (see model_parallel_step.hpp): the host state scattered to the workers and
// gathered back, and one batch through the split model, its time booked from the timeline.
#include "ch05/model_parallel_step.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ch05/pipeline_mlp.hpp"
#include "ch05/tensor_parallel.hpp"
#include "ptt/data.hpp"
#include "ptt/metrics.hpp"

namespace ptt::ch05 {

std::unique_ptr<ModelParallel> make_model_parallel(const ParamLayout& full, const Options& options) {
  if (options.tp > 1) return std::make_unique<TensorParallelMlp>(full, options.tp, true);
  return std::make_unique<PipelineMlp>(full, options.pp, options.microbatches, options.schedule, true);
}

void book_worker_time(PhaseTimer& phases, const Utilisation& u, double seconds) {
  // Every worker lived through the same wall time; the mean worker spent its mean busy time
  // computing, its mean all-reduce time reducing, and the rest of the wall time waiting. (The
  // bubble the timeline reports divides by the span of the events instead, which leaves out the
  // threads' start and join.)
  const double workers = static_cast<double>(std::max<std::size_t>(u.busy_us.size(), 1));
  const double compute = std::accumulate(u.busy_us.begin(), u.busy_us.end(), 0.0) / workers * 1e-6;
  const double reduce = std::accumulate(u.reduce_us.begin(), u.reduce_us.end(), 0.0) / workers * 1e-6;
  phases.add(Phase::Compute, compute);
  if (reduce > 0) phases.add(Phase::Reduce, reduce);
  phases.add(Phase::Idle, std::max(0.0, seconds - compute - reduce));
}

ModelParallelStep::ModelParallelStep(Mlp& model, const Dataset& train, const TrainConfig& cfg,
                                     const Options& options)
    : model_(model),
      train_(train),
      parallel_(make_model_parallel(model.layout, options)),
      timeline_(
          parallel_->num_workers(), options.tp > 1 ? "worker" : "stage", options.trace,
          options.tp > 1 ? std::nullopt : std::optional(predicted_bubble(options.pp, options.microbatches))) {
  parallel_->make_optimizers(cfg.optimizer, cfg.lr, cfg.momentum);
  optimizer_state_.assign(parallel_->optimizer_state_size(), 0.0f);  // a fresh optimizer's: zeros
}

StateView ModelParallelStep::host_state() { return {model_.params, optimizer_state_, optimizer_steps_}; }

// The split: each worker gets its shard of chapter 01's state, and gives it back.
void ModelParallelStep::push_state(long optimizer_steps) {
  parallel_->scatter_params(model_.params);
  parallel_->scatter_optimizer(optimizer_state_, optimizer_steps);
  optimizer_steps_ = optimizer_steps;
}

void ModelParallelStep::pull_state() {
  parallel_->gather_params(model_.params);
  parallel_->gather_optimizer(optimizer_state_);
  optimizer_steps_ = parallel_->optimizer_steps();
}

//! [model_parallel_step]
void ModelParallelStep::step(std::span<const std::uint32_t> batch, const StepContext& ctx,
                             EpochStats& stats) {
  {
    auto t = ctx.phases.scope(Phase::Data);
    gather(train_, batch, x_, y_);
  }
  // Forward and backward on all workers at once, interleaved: booked from the timeline.
  Stopwatch watch;
  const float loss = parallel_->forward_backward(x_, y_);
  const double seconds = watch.seconds();
  const std::vector<Event> events = parallel_->timeline().events();
  parallel_->timeline().clear();
  const Utilisation u = utilisation(events, parallel_->num_workers());
  book_worker_time(ctx.phases, u, seconds);
  timeline_.add(events, u);
  {
    auto t = ctx.phases.scope(Phase::Update);
    // The guard before the update (booked with it): a scan of the workers' gradients; only a NaN
    // or an Inf gathers them into chapter 01's layout, to name the layer.
    if (!std::isfinite(loss) || !parallel_->grads_finite()) {
      parallel_->gather_grads(model_.grads);
      ctx.guard.check(loss, model_.grads, ctx.step, ctx.epoch);
    }
    parallel_->update(ctx.lr);  // each worker updates what it owns
  }
  stats.add(loss, count_correct(parallel_->logits(), y_), y_.size());
}
//! [model_parallel_step]

void ModelParallelStep::finish(Reporter& report) {
  timeline_.finish(report);
  if (const auto* pipe = dynamic_cast<const PipelineMlp*>(parallel_.get()))
    report.extra()["peak_stored_microbatches"] = pipe->peak_stored();
}

}  // namespace ptt::ch05
