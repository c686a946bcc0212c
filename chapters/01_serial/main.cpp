// Chapter 01 — the serial reference trainer.
//
// One thread trains an MLP on Fashion-MNIST with mini-batch SGD (or Adam):
//   for each epoch: shuffle; for each batch: gather -> forward -> backward -> update.
// Every later chapter parallelises this loop and is tested against its result.
#include <Eigen/Core>

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

int main(int argc, char** argv) {
  return ptt::run_main("ch01_serial", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{"Chapter 01: the serial reference trainer (one thread)."};
    ptt::add_train_options(app, cfg);
    if (auto code = ptt::parse_command_line(app, cfg, argc, argv)) return *code;
    Eigen::setNbThreads(1);  // the reference runs on one thread, Eigen's GEMM included

    ptt::MetricsLog log(cfg.metrics);  // opened first: a bad path fails before any work
    ptt::Checkpointer checkpoints(cfg, ptt::resume_config(cfg));
    const ptt::TrainTest data = ptt::load_fashion_mnist(cfg.data_dir);
    ptt::Mlp model(ptt::mlp_sizes(data.train.features(), cfg.hidden, data.classes));
    ptt::he_init(model.layout, model.params, cfg.seed);
    auto optimizer = ptt::make_optimizer(cfg.optimizer, model.params.size(), cfg.lr, cfg.momentum);

    ptt::Reporter report("ch01_serial", cfg, model.layout.sizes(), log);
    report.start(static_cast<std::size_t>(data.train.size()), static_cast<std::size_t>(data.test.size()),
                 model.params.size());

    ptt::BatchSampler sampler(static_cast<std::size_t>(data.train.size()),
                              static_cast<std::size_t>(cfg.batch_size), cfg.seed);
    ptt::Workspace ws;
    ptt::Matrix x;
    std::vector<std::uint8_t> y;
    ptt::PhaseTimer phases;
    ptt::Evaluation test;
    ptt::Stopwatch run_clock;
    const ptt::Position start = checkpoints.restore(model.layout, model.params, *optimizer);  // --resume
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
        optimizer->set_lr(ptt::scheduled_lr(cfg.lr_schedule, cfg.lr, steps, total_steps));
        {
          auto t = phases.scope(ptt::Phase::Data);
          ptt::gather(data.train, sampler.batch(b), x, y);
        }
        {
          auto t = phases.scope(ptt::Phase::Forward);
          ptt::mlp_forward(model.layout, model.params, x, ws);
        }
        float loss;
        {
          auto t = phases.scope(ptt::Phase::Backward);
          loss = ptt::mlp_backward(model.layout, model.params, y, ws, model.grads);
        }
        ptt::check_finite(loss, model.layout, model.grads, steps + 1, epoch, checkpoints);  // NaN/Inf stop here
        {
          auto t = phases.scope(ptt::Phase::Update);
          optimizer->step(model.params, model.grads);
        }
        train.add(loss, ptt::count_correct(ws.logits(), y), y.size());
        bar.update(b + 1, train.loss());
        if (checkpoints.due(++steps)) checkpoints.save(model.layout, model.params, *optimizer, {epoch, b + 1, steps, train});
      }
      bar.finish();
      test = ptt::evaluate(model.layout, model.params, data.test, data.classes);
      report.epoch(epoch, train, test, phases.total() - train_before, epoch_clock.seconds(),
                   train.samples - (epoch == start.epoch ? start.stats.samples : 0));
      // An epoch cut short by --max-steps resumes where it stopped; a complete one at the next.
      const bool complete = b == sampler.num_batches();
      checkpoints.save(model.layout, model.params, *optimizer,
                       {complete ? epoch + 1 : epoch, complete ? 0 : b, steps, complete ? ptt::EpochStats{} : train});
    }
    report.finish(test, steps, model.params, phases, run_clock.seconds());
    return 0;
  });
}
