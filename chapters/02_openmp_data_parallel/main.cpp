// Chapter 02 — data parallelism on one machine, with OpenMP.
//
// Chapter 01's trainer, with one change: each batch is split into shards, every thread runs
// forward and backward for its shards into its own gradient buffer, and the buffers are combined
// with weights n_k / n before the one optimizer update, which the threads also share
// (solutions/ch02/data_parallel.hpp).
// --intra-op instead keeps chapter 01's loop and lets Eigen thread each matrix product.
#include <Eigen/Core>

#include "data_parallel.hpp"
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
  return ptt::run_main("ch02_openmp", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{"Chapter 02: data parallelism on one machine (OpenMP threads)."};
    ptt::add_train_options(app, cfg);
    // [ch02] the new flags
    ptt::ch02::Options dp;
    std::string reduce = "buffers";
    bool intra_op = false;
    app.add_option("--threads", dp.threads, "OpenMP threads")->capture_default_str();
    app.add_flag("--deterministic", dp.deterministic, "fixed shards and combination order: same bits for any --threads");
    app.add_option("--shards", dp.shards, "shards per batch in deterministic mode")->capture_default_str();
    app.add_option("--reduce", reduce, "buffers (padded per-shard buffers), owner (each thread owns rows of every weight gradient), atomic or critical")->capture_default_str();
    app.add_flag("--intra-op", intra_op, "no data parallelism: chapter 01's loop with Eigen's threaded GEMM");
    if (auto code = ptt::parse_command_line(app, cfg, argc, argv)) return *code;
    ptt::require_input(dp.threads >= 1 && dp.threads <= 1024, "--threads: must be in [1, 1024], got " + std::to_string(dp.threads));
    ptt::require_input(dp.shards >= 1 && dp.shards <= 4096, "--shards: must be in [1, 4096], got " + std::to_string(dp.shards));
    ptt::require_input(reduce == "buffers" || reduce == "owner" || reduce == "atomic" || reduce == "critical",
                       "--reduce: unknown reduction '" + reduce + "' (use buffers, owner, atomic or critical)");
    ptt::require_input(!(dp.deterministic && reduce != "buffers"), "--reduce: " + reduce + " cannot be --deterministic (its order depends on the threads)");
    dp.reduction = reduce == "atomic" ? ptt::ch02::Reduction::Atomic
                   : reduce == "critical" ? ptt::ch02::Reduction::Critical
                   : reduce == "owner"    ? ptt::ch02::Reduction::Owner : ptt::ch02::Reduction::Buffers;
    // [ch02] our threads run the shards; Eigen must not start its own inside them.
    Eigen::setNbThreads(intra_op ? dp.threads : 1);

    ptt::MetricsLog log(cfg.metrics);  // opened first: a bad path fails before any work
    nlohmann::json resume = ptt::resume_config(cfg);
    resume.update({{"deterministic", dp.deterministic}, {"shards", dp.deterministic ? dp.shards : 0}, {"intra_op", intra_op}});
    ptt::Checkpointer checkpoints(cfg, resume);
    const ptt::TrainTest data = ptt::load_fashion_mnist(cfg.data_dir);
    ptt::Mlp model(ptt::mlp_sizes(data.train.features(), cfg.hidden, data.classes));
    ptt::he_init(model.layout, model.params, cfg.seed);
    auto optimizer = ptt::make_optimizer(cfg.optimizer, model.params.size(), cfg.lr, cfg.momentum);
    ptt::ch02::DataParallel parallel(model.layout, dp);  // [ch02]

    ptt::Reporter report("ch02_openmp", cfg, model.layout.sizes(), log);
    report.extra() = {{"threads", dp.threads}, {"deterministic", dp.deterministic}, {"shards", parallel.shard_count()},
                      {"reduce", reduce}, {"intra_op", intra_op}};
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
        float loss;
        std::size_t correct;
        if (intra_op) {  // chapter 01's step; Eigen threads each product
          {
            auto t = phases.scope(ptt::Phase::Forward);
            ptt::mlp_forward(model.layout, model.params, x, ws);
          }
          {
            auto t = phases.scope(ptt::Phase::Backward);
            loss = ptt::mlp_backward(model.layout, model.params, y, ws, model.grads);
            correct = ptt::count_correct(ws.logits(), y);
          }
          auto t = phases.scope(ptt::Phase::Update);
          optimizer->step(model.params, model.grads);
        } else {  // [ch02] shards in parallel, gradients combined with weights n_k / n, update in parallel
          loss = parallel.step(model.params, x, y, model.grads, optimizer.get(), &phases);
          correct = parallel.last_correct();
        }
        ptt::check_finite(loss, model.layout, model.grads, steps + 1, epoch, checkpoints);  // NaN/Inf stop here
        train.add(loss, correct, y.size());
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
