// Chapter 03 — distributed data parallelism with MPI.
//
// Chapter 02's trainer, run as several processes (ranks): each holds a full replica, rank 0's
// initial weights are broadcast, each rank trains on its shard of every global batch, and the
// scaled gradients are summed over the ranks before the identical update on every replica
// (solutions/ch03/distributed.hpp). Only rank 0 prints, shows progress and writes metrics.
// Launch:  mpiexec -n 4 ch03_mpi [flags]   (see the chapter README for root/oversubscription)
#include <Eigen/Core>
#include <optional>

#include "distributed.hpp"
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
  ptt::ch03::Mpi mpi(&argc, &argv);  // [ch03] one process per rank
  const bool root = mpi.rank() == 0;
  return ptt::ch03::run_main_mpi("ch03_mpi", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{"Chapter 03: distributed data parallelism (MPI ranks, OpenMP threads inside each)."};
    ptt::add_train_options(app, cfg);
    // [ch03] the new flags
    ptt::ch03::Options dist;
    std::string allreduce = "mpi";
    int bucket_kb = 256;
    int check_every = 100;
    app.add_option("--allreduce", allreduce, "mpi (MPI_Allreduce), ring (ours) or bucketed (MPI_Iallreduce during backward)")
        ->capture_default_str();
    app.add_option("--bucket-kb", bucket_kb, "gradient bucket size for --allreduce bucketed")->capture_default_str();
    app.add_option("--threads", dist.threads, "OpenMP threads inside each rank")->capture_default_str();
    app.add_option("--check-every", check_every, "compare the replicas' checksums every N steps (0: only at the end)")
        ->capture_default_str();

    // [ch03] every rank parses; a mistake is reported once, and every rank stops with code 2.
    std::optional<std::string> error;
    std::optional<int> early;
    try {
      early = ptt::parse_command_line(app, cfg, argc, argv);
      ptt::require_input(allreduce == "mpi" || allreduce == "ring" || allreduce == "bucketed",
                         "--allreduce: unknown algorithm '" + allreduce + "' (use mpi, ring or bucketed)");
      ptt::require_input(bucket_kb >= 1 && bucket_kb <= 1 << 20, "--bucket-kb: must be in [1, 1048576], got " + std::to_string(bucket_kb));
      ptt::require_input(dist.threads >= 1 && dist.threads <= 1024, "--threads: must be in [1, 1024], got " + std::to_string(dist.threads));
      ptt::require_input(!(allreduce == "bucketed" && dist.threads > 1),
                         "--allreduce bucketed: overlaps communication with a one-thread backward pass; use --threads 1");
      ptt::require_input(check_every >= 0, "--check-every: must be 0 or more, got " + std::to_string(check_every));
    } catch (const ptt::InputError& e) {
      error = e.what();
    }
    ptt::ch03::agree(error, "ch03_mpi");
    if (early) return *early;
    dist.allreduce = allreduce == "ring" ? ptt::ch03::AllreduceKind::Ring
                     : allreduce == "bucketed" ? ptt::ch03::AllreduceKind::Bucketed : ptt::ch03::AllreduceKind::Mpi;
    dist.bucket_bytes = static_cast<std::size_t>(bucket_kb) * 1024;
    Eigen::setNbThreads(1);

    // [ch03] every rank loads the data set (and rank 0 opens the metrics file); any failure on
    // any rank stops all of them at this checkpoint.
    std::optional<ptt::MetricsLog> log;
    std::optional<ptt::TrainTest> loaded;
    std::optional<ptt::Checkpointer> checkpoints;  // [ch03] rank 0 writes, every rank resumes
    nlohmann::json resume = ptt::resume_config(cfg);
    resume.update({{"ranks", mpi.size()}, {"allreduce", allreduce}});
    try {
      log.emplace(root ? cfg.metrics : std::string());
      checkpoints.emplace(cfg, resume, root);
      loaded.emplace(ptt::load_fashion_mnist(cfg.data_dir));
    } catch (const ptt::InputError& e) {
      error = e.what();
    }
    ptt::ch03::agree(error, "ch03_mpi");
    const ptt::TrainTest& data = *loaded;

    ptt::Mlp model(ptt::mlp_sizes(data.train.features(), cfg.hidden, data.classes));
    if (root) ptt::he_init(model.layout, model.params, cfg.seed);
    // [ch03] rank 0's initial weights everywhere
    PTT_MPI_CHECK(MPI_Bcast(model.params.data(), static_cast<int>(model.params.size()), MPI_FLOAT, 0, MPI_COMM_WORLD));
    auto optimizer = ptt::make_optimizer(cfg.optimizer, model.params.size(), cfg.lr, cfg.momentum);
    ptt::ch03::DistributedStep distributed(model.layout, dist, MPI_COMM_WORLD);

    ptt::Reporter report("ch03_mpi", cfg, model.layout.sizes(), *log);
    report.set_quiet(!root);
    report.extra() = {{"ranks", mpi.size()}, {"threads", dist.threads}, {"allreduce", allreduce},
                      {"global_batch", cfg.batch_size * mpi.size()}};
    report.start(static_cast<std::size_t>(data.train.size()), static_cast<std::size_t>(data.test.size()),
                 model.params.size());

    // [ch03] the global batch is the per-rank batch times the world size, shuffled identically
    ptt::BatchSampler sampler(static_cast<std::size_t>(data.train.size()),
                              static_cast<std::size_t>(cfg.batch_size) * static_cast<std::size_t>(mpi.size()), cfg.seed);
    ptt::PhaseTimer phases;
    ptt::Evaluation test;
    ptt::Stopwatch run_clock;
    ptt::Position start;
    try {
      start = checkpoints->restore(model.layout, model.params, *optimizer);  // --resume, on every rank
    } catch (const ptt::InputError& e) {
      error = e.what();
    }
    ptt::ch03::agree(error, "ch03_mpi");
    long steps = start.steps;
    const long total_steps = ptt::planned_steps(cfg, sampler.num_batches());
    for (int epoch = start.epoch; epoch <= cfg.epochs && !ptt::step_limit_reached(cfg, steps); ++epoch) {
      ptt::Stopwatch epoch_clock;
      const double train_before = phases.total();
      ptt::EpochStats train = epoch == start.epoch ? start.stats : ptt::EpochStats{};
      std::size_t b = epoch == start.epoch ? start.next_batch : 0;
      sampler.start_epoch(static_cast<std::uint64_t>(epoch));
      ptt::ProgressBar bar("epoch " + std::to_string(epoch), sampler.num_batches(), root && !cfg.no_progress);
      for (; b < sampler.num_batches() && !ptt::step_limit_reached(cfg, steps); ++b) {
        optimizer->set_lr(ptt::scheduled_lr(cfg.lr_schedule, cfg.lr, steps, total_steps));
        // [ch03] forward/backward on this rank's shard, allreduce, the same update everywhere
        const auto batch = sampler.batch(b);
        const auto result = distributed.step(model.params, model.grads, data.train, batch, optimizer.get(), &phases);
        train.add(result.loss, result.correct, batch.size());
        bar.update(b + 1, train.loss());
        ptt::check_finite(result.loss, model.layout, model.grads, steps + 1, epoch, *checkpoints);  // same on every rank
        ++steps;
        if (check_every > 0 && steps % check_every == 0) ptt::ch03::check_replicas(model.params, MPI_COMM_WORLD);
        if (checkpoints->due(steps)) checkpoints->save(model.layout, model.params, *optimizer, {epoch, b + 1, steps, train});
      }
      bar.finish();
      if (root) test = ptt::evaluate(model.layout, model.params, data.test, data.classes);
      report.epoch(epoch, train, test, phases.total() - train_before, epoch_clock.seconds(),
                   train.samples - (epoch == start.epoch ? start.stats.samples : 0));
      // An epoch cut short by --max-steps resumes where it stopped; a complete one at the next.
      const bool complete = b == sampler.num_batches();
      checkpoints->save(model.layout, model.params, *optimizer,
                        {complete ? epoch + 1 : epoch, complete ? 0 : b, steps, complete ? ptt::EpochStats{} : train});
    }
    ptt::ch03::check_replicas(model.params, MPI_COMM_WORLD);  // [ch03] all replicas identical
    report.finish(test, steps, model.params, phases, run_clock.seconds());
    return 0;
  });
}
