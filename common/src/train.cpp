// The training loop every chapter shares (see ptt/train.hpp), and chapter 01's step.
#include "ptt/train.hpp"

#include "ptt/error.hpp"
#include "ptt/layers.hpp"
#include "ptt/progress.hpp"

namespace ptt {

namespace {
/// Steps between two flushes of a strategy that does not report each step (a GPU), while a
/// progress bar is shown: each flush is a wait for the device.
constexpr long kFlushEvery = 50;
}  // namespace

TrainingRun::TrainingRun(std::string program, const TrainConfig& cfg, const nlohmann::json& resume_config,
                         Team* team)
    : program_(std::move(program)),
      cfg_(cfg),
      team_(team ? team : &alone_),
      global_batch_(static_cast<std::size_t>(cfg.batch_size)) {
  const bool leader = team_->leader();
  std::optional<std::string> error;
  try {
    log_.emplace(leader ? cfg_.metrics : std::string());  // opened first: a bad path fails before any work
    nlohmann::json run_config = ptt::resume_config(cfg_);
    if (resume_config.is_object()) run_config.update(resume_config);
    checkpoints_.emplace(cfg_, run_config, leader);
    data_ = load_fashion_mnist(cfg_.data_dir);
  } catch (const InputError& e) {
    error = e.what();
  }
  team_->agree(error);
  model_.emplace(mlp_sizes(data_.train.features(), cfg_.hidden, data_.classes));
  he_init(model_->layout, model_->params, cfg_.seed);
  report_.emplace(program_, cfg_, model_->layout.sizes(), *log_);
  report_->set_quiet(!leader);
}

//! [the_loop]
Evaluation TrainingRun::train(StepStrategy& strategy) {
  const bool leader = team_->leader();
  const ParamLayout& layout = model_->layout;
  Checkpointer& checkpoints = *checkpoints_;
  report_->start(static_cast<std::size_t>(data_.train.size()), static_cast<std::size_t>(data_.test.size()),
                 layout.size());
  BatchSampler sampler(static_cast<std::size_t>(data_.train.size()), global_batch_, cfg_.seed);
  PhaseTimer phases;
  const DivergenceGuard guard(layout, checkpoints);
  Evaluation test;
  Stopwatch run_clock;

  // --resume: the saved state into the host buffers (on every process), then to the workers.
  Position start;
  std::optional<std::string> error;
  try {
    start = checkpoints.restore(layout, strategy.host_state());
  } catch (const InputError& e) {
    error = e.what();
  }
  team_->agree(error);
  strategy.push_state(start.optimizer_steps);

  long steps = start.steps;
  const long total_steps = planned_steps(cfg_, sampler.num_batches());
  for (int epoch = start.epoch; epoch <= cfg_.epochs && !step_limit_reached(cfg_, steps); ++epoch) {
    Stopwatch epoch_clock;
    const double train_before = phases.total();
    const bool resumed = epoch == start.epoch;
    EpochStats train = resumed ? start.stats : EpochStats{};
    std::size_t b = resumed ? start.next_batch : 0;
    sampler.start_epoch(static_cast<std::uint64_t>(epoch));
    strategy.start_epoch({epoch, sampler, b, steps - static_cast<long>(b), total_steps});
    ProgressBar bar("epoch " + std::to_string(epoch), sampler.num_batches(), leader && !cfg_.no_progress);
    const bool flush_for_bar = !strategy.stats_each_step() && bar.active();
    auto context = [&](long step) {
      return StepContext{step, epoch, scheduled_lr(cfg_.lr_schedule, cfg_.lr, step - 1, total_steps), phases,
                         guard};
    };
    for (; b < sampler.num_batches() && !step_limit_reached(cfg_, steps); ++b) {
      const StepContext ctx = context(steps + 1);
      strategy.step(sampler.batch(b), ctx, train);  // the chapter's idea
      ++steps;
      if (flush_for_bar && steps % kFlushEvery == 0) strategy.flush(ctx, train);
      if (strategy.stats_each_step() || flush_for_bar) bar.update(b + 1, train.loss());
      if (checkpoints.due(steps)) {
        strategy.flush(ctx, train);  // a diverged state is never saved
        strategy.pull_state();
        checkpoints.save(layout, strategy.host_state(), {epoch, b + 1, steps, train});
      }
    }
    strategy.flush(context(steps), train);
    bar.finish();
    strategy.pull_state();
    const StateView state = strategy.host_state();
    if (leader) test = evaluate(layout, state.params, data_.test, data_.classes);
    report_->epoch(epoch, train, test, phases.total() - train_before, epoch_clock.seconds(),
                   train.samples - (resumed ? start.stats.samples : 0));
    // An epoch cut short by --max-steps resumes where it stopped; a complete one at the next.
    const bool complete = b == sampler.num_batches();
    checkpoints.save(
        layout, state,
        {complete ? epoch + 1 : epoch, complete ? 0 : b, steps, complete ? EpochStats{} : train});
  }
  strategy.finish(*report_);
  report_->finish(test, steps, strategy.host_state().params, phases, run_clock.seconds());
  return test;
}
//! [the_loop]

SerialStep::SerialStep(Mlp& model, const Dataset& train, const TrainConfig& cfg)
    : model_(model),
      train_(train),
      optimizer_(make_optimizer(cfg.optimizer, model.params.size(), cfg.lr, cfg.momentum)) {}

StateView SerialStep::host_state() { return {model_.params, optimizer_->state(), optimizer_->steps_taken()}; }

void SerialStep::push_state(long optimizer_steps) { optimizer_->set_steps_taken(optimizer_steps); }

//! [serial_step]
void SerialStep::step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) {
  optimizer_->set_lr(ctx.lr);
  {
    auto t = ctx.phases.scope(Phase::Data);
    gather(train_, batch, x_, y_);
  }
  {
    auto t = ctx.phases.scope(Phase::Forward);
    mlp_forward(model_.layout, model_.params, x_, ws_);
  }
  float loss;
  {
    auto t = ctx.phases.scope(Phase::Backward);
    loss = mlp_backward(model_.layout, model_.params, y_, ws_, model_.grads);
  }
  ctx.guard.check(loss, model_.grads, ctx.step, ctx.epoch);  // NaN/Inf stop here, before the update
  {
    auto t = ctx.phases.scope(Phase::Update);
    optimizer_->step(model_.params, model_.grads);
  }
  stats.add(loss, count_correct(ws_.logits(), y_), y_.size());
}
//! [serial_step]

}  // namespace ptt
