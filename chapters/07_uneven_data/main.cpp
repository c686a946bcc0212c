// Chapter 07 — uneven data: skewed shards, local SGD and model averaging.
//
// Chapter 03's ranks, but each rank now HOLDS a part of the training set (--split: random,
// by-class, Dirichlet or stratified). Synchronously (--sync-every 1, the default) every step draws
// the global batch (--batch-size is GLOBAL here), each rank computes the gradient of the samples of
// it that it holds, and one allreduce sums them: the split cannot matter. With --sync-every H,
// epoch, or --sync-once, every rank trains its own replica on its own shard and the replicas are
// averaged every H steps, weighted n_k / n: now the split matters (solutions/ch07/uneven_step.hpp).
// Launch:  mpiexec -n 4 ch07_uneven [flags]   (see the chapter README for root/oversubscription)
#include <Eigen/Core>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ch03/mpi_runtime.hpp"
#include "ch07/uneven_step.hpp"
#include "ptt/cli.hpp"
#include "ptt/error.hpp"
#include "ptt/train.hpp"

namespace {
// "--sync-every": a positive integer or "epoch".
void parse_sync(const std::string& text, bool once, ptt::ch07::SyncOptions& sync) {
  using ptt::ch07::SyncKind;
  if (once) {
    ptt::require_input(text.empty(), "--sync-once: give it or --sync-every, not both");
    sync = {SyncKind::Once, 0, true};
    return;
  }
  if (text.empty()) return;  // the default: gradients every step
  if (text == "epoch") {
    sync = {SyncKind::Epoch, 0, true};
    return;
  }
  long h = 0;
  std::size_t used = 0;
  try {
    h = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  ptt::require_input(used == text.size() && used > 0,
                     "--sync-every: '" + text + "' is not a number of steps or 'epoch'");
  ptt::require_input(h >= 1, "--sync-every: must be at least 1 (got " + text + ")");
  sync = {SyncKind::Steps, h, h > 1};
}

std::string number_text(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

std::string sync_name(const ptt::ch07::SyncOptions& sync) {
  switch (sync.kind) {
    case ptt::ch07::SyncKind::Epoch:
      return "epoch";
    case ptt::ch07::SyncKind::Once:
      return "once";
    case ptt::ch07::SyncKind::Steps:
      break;
  }
  return std::to_string(sync.every);
}
}  // namespace

int main(int argc, char** argv) {
  ptt::ch03::Mpi mpi(&argc, &argv);  // [ch03] one process per rank
  return ptt::ch03::run_main_mpi("ch07_uneven", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{"Chapter 07: uneven data: skewed shards, local SGD and model averaging (MPI ranks)."};
    ptt::add_train_options(app, cfg);
    // [ch07] the new flags
    using ptt::ch07::SplitKind;
    const std::map<std::string, SplitKind> splits{{"random", SplitKind::Random},
                                                  {"by-class", SplitKind::ByClass},
                                                  {"dirichlet", SplitKind::Dirichlet},
                                                  {"stratified", SplitKind::Stratified}};
    ptt::ch07::SplitOptions split;
    std::string sync_every;
    bool sync_once = false;
    ptt::add_choice(app, "--split", split.kind, splits,
                    "which samples each rank holds: random (IID), by-class, dirichlet (label skew) or "
                    "stratified (every rank the same class mix)");
    app.add_option("--alpha", split.alpha,
                   "Dirichlet concentration for --split dirichlet (> 0; small: skewed)")
        ->capture_default_str();
    app.add_option("--classes-per-rank", split.classes_per_rank,
                   "classes each rank holds for --split by-class (K or K+1 each, every class held)")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    app.add_option("--sync-every", sync_every,
                   "1 (default): allreduce the gradients every step; H > 1 or 'epoch': local SGD, "
                   "average the replicas every H steps or at each epoch's end");
    app.add_flag("--sync-once", sync_once, "local SGD: train apart, average once at the end");
    // [ch07] stragglers and speed-proportional parts of the batch
    ptt::ch07::BalanceOptions balance;
    const std::map<std::string, bool> balances{{"none", false}, {"speed", true}};
    app.add_option("--slow-rank", balance.slow_rank, "make this rank a straggler (-1: none)")
        ->capture_default_str();
    app.add_option("--slowdown", balance.slowdown,
                   "the slow rank's compute takes F times as long (it sleeps F - 1 times its compute time)")
        ->capture_default_str();
    ptt::add_choice(app, "--balance", balance.by_speed, balances,
                    "none: parts by who holds what; speed: each batch cut in proportion to the ranks' "
                    "measured speeds (every rank reads every sample; with --split random, --sync-every 1)");
    // [ch07] a globally imbalanced training set, and its fixes
    std::string imbalance_text;
    ptt::ch07::ClassBalance class_balance = ptt::ch07::ClassBalance::None;
    const std::map<std::string, ptt::ch07::ClassBalance> class_balances{
        {"none", ptt::ch07::ClassBalance::None},
        {"weights", ptt::ch07::ClassBalance::Weights},
        {"resample", ptt::ch07::ClassBalance::Resample}};
    app.add_option("--imbalance", imbalance_text,
                   "CLASSES:FRACTION, e.g. 0,2,4:0.05 keeps 5 % of those classes' training samples");
    ptt::add_choice(
        app, "--class-balance", class_balance, class_balances,
        "none, weights (class-weighted loss, inverse frequency) or resample (class-balanced batches)");
    app.add_option("--rebalance-every", balance.every,
                   "re-measure the speeds every N steps for --balance speed")
        ->check(CLI::Range(1L, 1L << 30))
        ->capture_default_str();

    // [ch03] every rank parses; a mistake is reported once, and every rank stops with code 2.
    ptt::ch03::MpiTeam team("ch07_uneven");
    ptt::ch07::SyncOptions sync;
    std::optional<std::string> error;
    std::optional<int> early;
    try {
      early = ptt::parse_command_line(app, cfg, argc, argv);
      if (!early) {
        ptt::require_input(split.alpha > 0.0, "--alpha: must be > 0 (got " + number_text(split.alpha) + ")");
        parse_sync(sync_every, sync_once, sync);
        ptt::require_input(balance.slow_rank >= -1 && balance.slow_rank < mpi.size(),
                           "--slow-rank: rank " + std::to_string(balance.slow_rank) + " is outside the " +
                               std::to_string(mpi.size()) + " ranks (0.." + std::to_string(mpi.size() - 1) +
                               ", or -1 for none)");
        ptt::require_input(balance.slowdown >= 1.0,
                           "--slowdown: must be at least 1 (got " + number_text(balance.slowdown) + ")");
        ptt::require_input(
            !balance.by_speed || (!sync.average_models && split.kind == SplitKind::Random),
            "--balance speed: needs --split random and --sync-every 1 (every rank reads every sample)");
        ptt::require_input(!sync.average_models || imbalance_text.empty(),
                           "--imbalance: needs --sync-every 1 (the synchronous gradient mode)");
        ptt::require_input(!sync.average_models || class_balance != ptt::ch07::ClassBalance::Weights,
                           "--class-balance weights: needs --sync-every 1 (the synchronous gradient mode)");
      }
    } catch (const ptt::InputError& e) {
      error = e.what();
    }
    team.agree(error);
    if (early) return *early;
    Eigen::setNbThreads(1);

    const std::string split_name = ptt::name_of(splits, split.kind);
    ptt::TrainingRun run("ch07_uneven", cfg,
                         {{"ranks", mpi.size()},
                          {"split", split_name},
                          {"alpha", split.alpha},
                          {"classes_per_rank", split.classes_per_rank},
                          {"sync", sync_name(sync)}},
                         &team);
    const ptt::TrainTest& data = run.data();
    ptt::ch07::Imbalance imbalance;
    try {
      error.reset();
      if (!imbalance_text.empty()) imbalance = ptt::ch07::parse_imbalance(imbalance_text, data.classes);
      ptt::require_input(split.classes_per_rank <= data.classes,
                         "--classes-per-rank: " + std::to_string(split.classes_per_rank) +
                             " is more than the " + std::to_string(data.classes) + " classes");
    } catch (const ptt::InputError& e) {
      error = e.what();
    }
    team.agree(error);

    // [ch07] the split: the same on every rank (seeded), each sample held by one rank.
    const ptt::ch07::Shards shards =
        ptt::ch07::make_split(split, data.train.y, data.classes, mpi.size(), cfg.seed);
    nlohmann::json sizes = nlohmann::json::array();
    for (const auto& s : shards) sizes.push_back(s.size());
    if (team.leader()) {
      for (std::size_t k = 0; k < shards.size(); ++k) {
        std::vector<std::size_t> per_class(static_cast<std::size_t>(data.classes));
        for (std::uint32_t i : shards[k]) ++per_class[data.train.y[i]];
        std::printf("rank %zu holds %6zu samples, per class:", k, shards[k].size());
        for (std::size_t c : per_class) std::printf(" %5zu", c);
        std::printf("\n");
      }
    }
    run.report().extra() = {{"ranks", mpi.size()},
                            {"split", split_name},
                            {"sync", sync_name(sync)},
                            {"global_batch", cfg.batch_size},
                            {"shard_sizes", sizes}};
    if (split.kind == SplitKind::Dirichlet) run.report().extra()["alpha"] = split.alpha;
    if (split.kind == SplitKind::ByClass) run.report().extra()["classes_per_rank"] = split.classes_per_rank;
    if (balance.slow_rank >= 0) {
      run.report().extra()["slow_rank"] = balance.slow_rank;
      run.report().extra()["slowdown"] = balance.slowdown;
    }
    if (balance.by_speed) run.report().extra()["balance"] = "speed";
    ptt::ch07::UnevenStep step(run.model(), data.train, cfg, shards, sync, MPI_COMM_WORLD, &run.report(),
                               balance);
    // [ch07] the classes: which samples stay, and the fix
    ptt::ch07::ClassOptions classes;
    classes.balance = class_balance;
    if (imbalance.active()) classes.keep = ptt::ch07::imbalance_keep(data.train.y, imbalance, cfg.seed);
    if (class_balance == ptt::ch07::ClassBalance::Weights)
      classes.weights = ptt::ch07::inverse_frequency_weights(
          data.train.y,
          classes.keep.empty() ? std::vector<std::uint8_t>(data.train.y.size(), 1) : classes.keep,
          data.classes);
    if (imbalance.active() || class_balance != ptt::ch07::ClassBalance::None) {
      step.set_classes(classes);
      run.report().extra()["imbalance"] = imbalance_text;
      run.report().extra()["class_balance"] = ptt::name_of(class_balances, class_balance);
    }
    step.report_classes(data.test, data.classes);
    run.train(step);
    return 0;
  });
}
