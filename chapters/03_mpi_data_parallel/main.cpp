// Chapter 03 — distributed data parallelism with MPI.
//
// Chapter 02's trainer, run as several processes (ranks): each holds a full replica, rank 0's
// initial weights are broadcast, each rank trains on its shard of every global batch, and the
// scaled gradients are summed over the ranks before the identical update on every replica
// (solutions/ch03/ddp_step.hpp, on solutions/ch03/distributed.hpp). The loop is the core's; only
// rank 0 prints, shows progress, evaluates and writes files.
// Launch:  mpiexec -n 4 ch03_mpi [flags]   (see the chapter README for root/oversubscription)
#include <Eigen/Core>
#include <map>
#include <optional>

#include "ch03/ddp_step.hpp"
#include "ch03/mpi_runtime.hpp"
#include "ptt/cli.hpp"
#include "ptt/error.hpp"
#include "ptt/train.hpp"

int main(int argc, char** argv) {
  ptt::ch03::Mpi mpi(&argc, &argv);  // [ch03] one process per rank
  return ptt::ch03::run_main_mpi("ch03_mpi", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{"Chapter 03: distributed data parallelism (MPI ranks, OpenMP threads inside each)."};
    ptt::add_train_options(app, cfg);
    // [ch03] the new flags
    using ptt::ch03::AllreduceKind;
    const std::map<std::string, AllreduceKind> kinds{
        {"mpi", AllreduceKind::Mpi}, {"ring", AllreduceKind::Ring}, {"bucketed", AllreduceKind::Bucketed}};
    ptt::ch03::Options dist;
    int bucket_kb = 256;
    int check_every = 100;
    ptt::add_choice(app, "--allreduce", dist.allreduce, kinds,
                    "mpi (MPI_Allreduce), ring (ours) or bucketed (MPI_Iallreduce during backward)");
    app.add_option("--bucket-kb", bucket_kb, "gradient bucket size for --allreduce bucketed")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    app.add_option("--threads", dist.threads, "OpenMP threads inside each rank")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    app.add_option("--check-every", check_every,
                   "compare the replicas' checksums every N steps (0: only at the end)")
        ->check(CLI::Range(0, 1 << 30))
        ->capture_default_str();

    // [ch03] every rank parses; a mistake is reported once, and every rank stops with code 2.
    ptt::ch03::MpiTeam team("ch03_mpi");
    std::optional<std::string> error;
    std::optional<int> early;
    try {
      early = ptt::parse_command_line(app, cfg, argc, argv);
      ptt::require_input(
          !(dist.allreduce == AllreduceKind::Bucketed && dist.threads > 1),
          "--allreduce bucketed: overlaps communication with a one-thread backward pass; use --threads 1");
    } catch (const ptt::InputError& e) {
      error = e.what();
    }
    team.agree(error);
    if (early) return *early;
    dist.bucket_bytes = static_cast<std::size_t>(bucket_kb) * 1024;
    Eigen::setNbThreads(1);

    const std::string allreduce = ptt::name_of(kinds, dist.allreduce);
    ptt::TrainingRun run("ch03_mpi", cfg, {{"ranks", mpi.size()}, {"allreduce", allreduce}}, &team);
    // [ch03] the global batch is the per-rank batch times the world size, shuffled identically
    run.set_global_batch(static_cast<std::size_t>(cfg.batch_size) * static_cast<std::size_t>(mpi.size()));
    run.report().extra() = {{"ranks", mpi.size()},
                            {"threads", dist.threads},
                            {"allreduce", allreduce},
                            {"global_batch", cfg.batch_size * mpi.size()}};
    ptt::ch03::DdpStep step(run.model(), run.data().train, cfg, dist, check_every, MPI_COMM_WORLD);
    run.train(step);
    return 0;
  });
}
