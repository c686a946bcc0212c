// Chapter 05 — model parallelism: tensor parallel and pipeline parallel.
//
// Chapter 01's trainer, with one change: the MODEL is split between workers (threads that own
// their part of the parameters, gradients and optimizer state and talk only through channels).
//   --tp N                  every layer pair split between N workers (solutions/ch05/tensor_parallel.hpp)
//   --pp N --microbatches M the layers split into N stages, the batch into M micro-batches, run
//   --schedule gpipe|1f1b   in GPipe or 1F1B order (solutions/ch05/pipeline.hpp)
//   --trace FILE            the timeline of the first steps as a Chrome trace (chrome://tracing, Perfetto)
// Chapter 01's flat buffer still exists: the shards are scattered from it at the start and
// gathered into it for evaluation, checksums and checkpoints.
#include <Eigen/Core>
#include <cmath>
#include <iostream>
#include <optional>

#include "pipeline.hpp"
#include "ptt/cli.hpp"
#include "ptt/data.hpp"
#include "ptt/error.hpp"
#include "ptt/metrics.hpp"
#include "ptt/metrics_log.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "ptt/progress.hpp"
#include "ptt/report.hpp"
#include "ptt/resume.hpp"
#include "ptt/timer.hpp"
#include "tensor_parallel.hpp"

int main(int argc, char** argv) {
  return ptt::run_main("ch05_model_parallel", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{
        "Chapter 05: model parallelism (tensor parallel, pipeline parallel) with threads as workers."};
    ptt::add_train_options(app, cfg);
    // [ch05] the new flags
    int tp = 1, pp = 1, micro = 1;
    std::string schedule_flag = "1f1b", trace;
    app.add_option("--tp", tp, "tensor-parallel workers (each layer pair split between them)")
        ->capture_default_str();
    app.add_option("--pp", pp, "pipeline stages (layers split between them)")->capture_default_str();
    app.add_option("--microbatches", micro, "micro-batches per mini-batch (pipeline)")->capture_default_str();
    app.add_option("--schedule", schedule_flag, "pipeline schedule: gpipe or 1f1b")->capture_default_str();
    app.add_option("--trace", trace, "write the timeline of the first steps to FILE (Chrome trace JSON)");
    if (auto code = ptt::parse_command_line(app, cfg, argc, argv)) return *code;
    ptt::require_input(tp >= 1 && tp <= 64, "--tp: must be in [1, 64], got " + std::to_string(tp));
    ptt::require_input(pp >= 1 && pp <= 64, "--pp: must be in [1, 64], got " + std::to_string(pp));
    ptt::require_input(micro >= 1 && micro <= cfg.batch_size,
                       "--microbatches: must be in [1, --batch-size = " + std::to_string(cfg.batch_size) +
                           "], got " + std::to_string(micro));
    ptt::require_input(tp == 1 || pp == 1,
                       "--tp and --pp: this chapter runs one of them at a time (set the other to 1)");
    const ptt::ch05::Schedule schedule = ptt::ch05::parse_schedule(schedule_flag);
    // [ch05] our threads are the workers; Eigen must not start its own inside them.
    Eigen::setNbThreads(1);

    ptt::MetricsLog log(cfg.metrics);  // opened first: a bad path fails before any work
    std::optional<ptt::MetricsLog> trace_file;
    if (!trace.empty())
      trace_file.emplace(trace, "--trace");  // a bad --trace path fails before any work, too
    nlohmann::json resume = ptt::resume_config(cfg);
    resume.update({{"tp", tp}, {"pp", pp}, {"microbatches", micro}, {"schedule", schedule_flag}});
    ptt::Checkpointer checkpoints(cfg, resume);
    const ptt::TrainTest data = ptt::load_fashion_mnist(cfg.data_dir);
    ptt::Mlp model(ptt::mlp_sizes(data.train.features(), cfg.hidden, data.classes));
    ptt::he_init(model.layout, model.params, cfg.seed);
    // The whole-model optimizer only carries state to and from checkpoints; the workers' own
    // optimizers do the updates.
    auto optimizer = ptt::make_optimizer(cfg.optimizer, model.params.size(), cfg.lr, cfg.momentum);
    // [ch05] split the model: each worker gets its shard of chapter 01's initial weights.
    std::unique_ptr<ptt::ch05::ModelParallel> parallel;
    if (tp > 1)
      parallel = std::make_unique<ptt::ch05::TensorParallelMlp>(model.layout, tp, true);
    else
      parallel = std::make_unique<ptt::ch05::PipelineMlp>(model.layout, pp, micro, schedule, true);
    parallel->make_optimizers(cfg.optimizer, cfg.lr, cfg.momentum);
    const std::string row_name = tp > 1 ? "worker" : "stage";

    ptt::Reporter report("ch05_model_parallel", cfg, model.layout.sizes(), log);
    report.extra() = {
        {"tp", tp}, {"pp", pp}, {"microbatches", micro}, {"schedule", tp > 1 ? "none" : schedule_flag}};
    report.start(static_cast<std::size_t>(data.train.size()), static_cast<std::size_t>(data.test.size()),
                 model.params.size());

    ptt::BatchSampler sampler(static_cast<std::size_t>(data.train.size()),
                              static_cast<std::size_t>(cfg.batch_size), cfg.seed);
    ptt::Matrix x;
    std::vector<std::uint8_t> y;
    ptt::PhaseTimer phases;
    ptt::Evaluation test;
    ptt::Stopwatch run_clock;
    const ptt::Position start = checkpoints.restore(model.layout, model.params, *optimizer);  // --resume
    parallel->scatter_params(model.params);
    if (start.steps > 0) parallel->scatter_optimizer(*optimizer);
    // [ch05] the timeline: the first steps go to --trace; every step adds to the measured bubble.
    constexpr long kTracedSteps = 4;
    std::vector<ptt::ch05::Event> traced;
    double busy_us = 0, worker_span_us = 0;
    long steps = start.steps;
    const long total_steps = ptt::planned_steps(cfg, sampler.num_batches());
    for (int epoch = start.epoch; epoch <= cfg.epochs && !ptt::step_limit_reached(cfg, steps); ++epoch) {
      ptt::Stopwatch epoch_clock;
      const double train_before = phases.total();
      ptt::EpochStats train = epoch == start.epoch ? start.stats : ptt::EpochStats{};
      std::size_t b = epoch == start.epoch ? start.next_batch : 0;
      sampler.start_epoch(static_cast<std::uint64_t>(epoch));
      ptt::ProgressBar bar("epoch " + std::to_string(epoch), sampler.num_batches(), !cfg.no_progress);
      for (; b < sampler.num_batches() && !ptt::step_limit_reached(cfg, steps); ++b) {
        const double lr = ptt::scheduled_lr(cfg.lr_schedule, cfg.lr, steps, total_steps);
        {
          auto t = phases.scope(ptt::Phase::Data);
          ptt::gather(data.train, sampler.batch(b), x, y);
        }
        float loss;
        {
          // [ch05] forward and backward run on all workers at once, interleaved: timed together
          // (the "forward" phase of the summary).
          auto t = phases.scope(ptt::Phase::Forward);
          loss = parallel->forward_backward(x, y);
        }
        if (!std::isfinite(loss) || !parallel->grads_finite()) {  // NaN/Inf stop here
          parallel->gather_grads(model.grads);                    // chapter 01's buffer, to name the layer
          ptt::check_finite(loss, model.layout, model.grads, steps + 1, epoch, checkpoints);
        }
        {
          auto t = phases.scope(ptt::Phase::Update);
          parallel->update(lr);  // [ch05] each worker updates what it owns
        }
        train.add(loss, ptt::count_correct(parallel->logits(), y), y.size());
        bar.update(b + 1, train.loss());
        const std::vector<ptt::ch05::Event> events = parallel->timeline().events();
        const ptt::ch05::Utilisation u = ptt::ch05::utilisation(events, parallel->num_workers());
        for (double busy : u.busy_us) busy_us += busy;
        worker_span_us += u.span_us * parallel->num_workers();
        if (parallel->steps() <= kTracedSteps) traced.insert(traced.end(), events.begin(), events.end());
        parallel->timeline().clear();
        if (checkpoints.due(++steps)) {
          parallel->gather_params(model.params);
          parallel->gather_optimizer(*optimizer);
          checkpoints.save(model.layout, model.params, *optimizer, {epoch, b + 1, steps, train});
        }
      }
      bar.finish();
      parallel->gather_params(model.params);  // [ch05] chapter 01's buffer, for evaluation
      test = ptt::evaluate(model.layout, model.params, data.test, data.classes);
      report.epoch(epoch, train, test, phases.total() - train_before, epoch_clock.seconds(),
                   train.samples - (epoch == start.epoch ? start.stats.samples : 0));
      // An epoch cut short by --max-steps resumes where it stopped; a complete one at the next.
      const bool complete = b == sampler.num_batches();
      parallel->gather_optimizer(*optimizer);
      checkpoints.save(
          model.layout, model.params, *optimizer,
          {complete ? epoch + 1 : epoch, complete ? 0 : b, steps, complete ? ptt::EpochStats{} : train});
    }
    // [ch05] the timeline of one step, and the bubble measured against theory.
    const double bubble = worker_span_us > 0 ? 1.0 - busy_us / worker_span_us : 0.0;
    report.extra()["bubble_measured"] = bubble;
    if (tp == 1) {
      report.extra()["bubble_predicted"] = ptt::ch05::predicted_bubble(pp, micro);
      auto* pipe = dynamic_cast<ptt::ch05::PipelineMlp*>(parallel.get());
      report.extra()["peak_stored_microbatches"] = pipe->peak_stored();
    }
    {
      std::vector<ptt::ch05::Event> shown;
      const long show = std::min<long>(2, static_cast<long>(parallel->steps()));
      for (const auto& e : traced)
        if (e.step == show) shown.push_back(e);
      std::cout << "\ntimeline of step " << show << ":\n"
                << ptt::ch05::ascii_timeline(shown, parallel->num_workers(), row_name);
      std::cout << "idle share of worker time (bubble), all steps: " << bubble;
      if (tp == 1) std::cout << "   theory (p-1)/(m+p-1): " << ptt::ch05::predicted_bubble(pp, micro);
      std::cout << "\n";
    }
    if (trace_file) {
      trace_file.reset();  // the temporary file opened up front; write_chrome_trace writes its own
      ptt::ch05::write_chrome_trace(trace, traced, parallel->num_workers(), row_name);
      std::cout << "trace of steps 1-" << kTracedSteps << ": " << trace << "\n";
    }
    report.finish(test, steps, model.params, phases, run_clock.seconds());
    return 0;
  });
}
