// Chapter 06 — hybrid parallelism on a process grid, and sharded optimizer state (ZeRO-1).
//
// Every worker is an MPI rank; the ranks form a dp x pp x tp grid (contracts/ch06/grid.hpp), and
// each kind of parallelism talks over its own communicator:
//   tp  chapter 05's Megatron split of every layer pair, its all-reduces on the tp group
//   pp  chapter 05's stages and schedules (GPipe, 1F1B), activations and gradients sent to the
//       neighbouring stage on the pp group
//   dp  chapter 03's bucketed all-reduce on the dp group, overlapped with the last backward pass;
//       or with --zero 1 a reduce-scatter, an update of this rank's shard, and an all-gather
// (solutions/ch06/hybrid_model.hpp). The loop is the core's; only rank 0 prints, evaluates and
// writes files. --batch-size is the GLOBAL batch here (chapter 03's is per rank).
// Launch:  mpiexec -n 8 ch06_hybrid --dp 2 --pp 2 --tp 2 --hidden 256,256,128
#include <Eigen/Core>
#include <cstdio>
#include <optional>
#include <set>
#include <sstream>

#include "ch03/mpi_runtime.hpp"
#include "ch06/hybrid_step.hpp"
#include "ptt/cli.hpp"
#include "ptt/error.hpp"
#include "ptt/train.hpp"

namespace {
// "tp-pp-dp" -> {Tp, Pp, Dp}: the axes from innermost to outermost.
std::array<ptt::ch06::Axis, 3> parse_order(const std::string& text) {
  using ptt::ch06::Axis;
  std::array<Axis, 3> order{};
  std::set<std::string> seen;
  std::istringstream in(text);
  std::string part;
  std::size_t n = 0;
  while (std::getline(in, part, '-')) {
    ptt::require_input(
        n < 3 && (part == "dp" || part == "pp" || part == "tp") && seen.insert(part).second,
        "--order: must name dp, pp and tp once each, innermost first (e.g. tp-pp-dp), got '" + text + "'");
    order[n++] = part == "dp" ? Axis::Dp : part == "pp" ? Axis::Pp : Axis::Tp;
  }
  ptt::require_input(
      n == 3,
      "--order: must name dp, pp and tp once each, innermost first (e.g. tp-pp-dp), got '" + text + "'");
  return order;
}
}  // namespace

int main(int argc, char** argv) {
  ptt::ch03::Mpi mpi(&argc, &argv);  // one process per rank (chapter 03's runtime)
  return ptt::ch03::run_main_mpi("ch06_hybrid", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{"Chapter 06: hybrid parallelism on a dp x pp x tp grid of MPI ranks, with ZeRO-1."};
    ptt::add_train_options(app, cfg);
    // [ch06] the new flags
    ptt::ch06::Options grid;
    std::string order = "tp-pp-dp";
    int bucket_kb = 256;
    app.add_option("--dp", grid.grid.dp, "data-parallel replicas")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    app.add_option("--pp", grid.grid.pp, "pipeline stages per replica")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    app.add_option("--tp", grid.grid.tp, "tensor-parallel ranks per stage")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    app.add_option("--order", order, "the grid's axes from innermost (consecutive ranks) to outermost")
        ->capture_default_str();
    app.add_option("--microbatches", grid.microbatches, "micro-batches per data-parallel shard of a batch")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    ptt::add_choice(app, "--schedule", grid.schedule, ptt::ch05::schedule_names(), "pipeline schedule");
    app.add_option("--zero", grid.zero, "0: every dp rank keeps the whole optimizer state; 1: its 1/dp shard")
        ->check(CLI::Range(0, 1))
        ->capture_default_str();
    app.add_option("--bucket-kb", bucket_kb, "gradient bucket size of the dp all-reduce (--zero 0)")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();

    // Every rank parses; a mistake is reported once, and every rank stops with code 2.
    ptt::ch03::MpiTeam team("ch06_hybrid");
    std::optional<std::string> error;
    std::optional<int> early;
    try {
      early = ptt::parse_command_line(app, cfg, argc, argv);
      if (!early) grid.grid.order = parse_order(order);
    } catch (const ptt::InputError& e) {
      error = e.what();
    }
    team.agree(error);
    if (early) return *early;
    grid.bucket_bytes = static_cast<std::size_t>(bucket_kb) * 1024;
    Eigen::setNbThreads(1);

    const std::string schedule = ptt::ch05::schedule_name(grid.schedule);
    // The grid is not part of what a resumed run must share: a checkpoint is in chapter 01's
    // layout, so a run saved on one grid resumes on another.
    ptt::TrainingRun run("ch06_hybrid", cfg, {}, &team);
    run.report().extra() = {{"dp", grid.grid.dp},
                            {"pp", grid.grid.pp},
                            {"tp", grid.grid.tp},
                            {"order", order},
                            {"zero", grid.zero},
                            {"schedule", schedule},
                            {"microbatches", grid.microbatches},
                            {"global_batch", cfg.batch_size}};
    // [ch06] the grid: a bad one is reported once (every rank finds the same mistake)
    std::unique_ptr<ptt::ch06::HybridStep> step;
    try {
      step =
          std::make_unique<ptt::ch06::HybridStep>(run.model(), run.data().train, cfg, grid, MPI_COMM_WORLD);
    } catch (const ptt::InputError& e) {
      error = e.what();
    }
    team.agree(error);
    if (team.leader()) std::fputs(ptt::ch06::describe_grid(run.model().layout, grid.grid).c_str(), stdout);
    run.train(*step);
    return 0;
  });
}
