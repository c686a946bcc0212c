// Chapter 05's step strategy in the core's training loop:
//   - through ptt::TrainingRun::train (two epochs on a tiny IDX data set written here, with SGD
//     and with Adam), tensor parallel on 2 workers and pipelines of 2 stages (GPipe and 1F1B)
//     end with chapter 01's parameters, optimizer state and update count (ptt::SerialStep on the
//     same batches, < 1e-5);
//   - the phases it books are the ones it has: data, compute, idle, update, and reduce for tensor
//     parallelism only; never forward or backward; compute + reduce + idle is the wall time of
//     forward_backward;
//   - the divergence guard stops a step with NaN gradients before its update.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "ch05/model_parallel_step.hpp"
#include "ptt/error.hpp"
#include "ptt/train.hpp"
#include "test_util.hpp"
#include "tiny_dataset.hpp"

namespace ptt::ch05 {
namespace {

constexpr double kStepTol = 1e-5;  // the core loop against serial steps

/// Two epochs of 6 batches (the last one short: 44 = 5 x 8 + 4) of a 36-16-8-10 MLP.
TrainConfig tiny_config(const std::string& dir, const std::string& optimizer) {
  TrainConfig cfg;
  cfg.data_dir = dir;
  cfg.epochs = 2;
  cfg.batch_size = 8;
  cfg.optimizer = optimizer;
  cfg.lr = optimizer == "adam" ? 0.01 : 0.05;
  cfg.hidden = {16, 8};
  cfg.seed = 5;
  cfg.no_progress = true;
  return cfg;
}

/// What a run ends with: its host state, and the phases of its final metrics record.
struct Result {
  std::vector<float> params, optimizer_state;
  long optimizer_steps = 0;
  nlohmann::json phase_seconds;
};

/// Trains with the core loop and the strategy that @p make builds for the run's model.
template <class Make>
Result train(TrainConfig cfg, const std::string& metrics, Make make) {
  cfg.metrics = metrics;
  TrainingRun run("ch05_step_test", cfg);
  auto strategy = make(run);
  run.train(*strategy);
  const StateView state = strategy->host_state();
  Result r{{state.params.begin(), state.params.end()},
           {state.optimizer_state.begin(), state.optimizer_state.end()},
           state.optimizer_steps,
           {}};
  std::ifstream in(metrics);
  std::string line, last;
  while (std::getline(in, line)) last = line;
  r.phase_seconds = nlohmann::json::parse(last).at("phase_seconds");
  std::remove(metrics.c_str());
  return r;
}

/// A folder removed when it goes out of scope (also when a failing run throws past the test's end).
struct Folder {
  std::string path;
  ~Folder() { std::filesystem::remove_all(path); }
};

struct Case {
  std::string name;
  Options split;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ThroughTheLoop : public ::testing::TestWithParam<std::tuple<Case, std::string>> {};

TEST_P(ThroughTheLoop, EqualsSerialStepAndBooksItsOwnPhases) {
  const Case& c = std::get<0>(GetParam());  // not a structured binding: clang 14 cannot capture those
  const std::string& optimizer = std::get<1>(GetParam());
  const Folder data{test::write_tiny_dataset(::testing::TempDir(), "ch05_step_test")};
  const std::string& dir = data.path;
  const TrainConfig cfg = tiny_config(dir, optimizer);
  const std::string metrics = dir + "/metrics.jsonl";
  const Result want = train(cfg, metrics, [&](TrainingRun& run) {
    return std::make_unique<SerialStep>(run.model(), run.data().train, run.config());
  });
  const Result got = train(cfg, metrics, [&](TrainingRun& run) {
    return std::make_unique<ModelParallelStep>(run.model(), run.data().train, run.config(), c.split);
  });
  EXPECT_LT(test::relative_error(got.params, want.params), kStepTol);
  EXPECT_LT(test::relative_error(got.optimizer_state, want.optimizer_state), kStepTol);  // sizes too
  EXPECT_EQ(got.optimizer_steps, optimizer == "adam" ? 12 : 0);                          // SGD keeps no count
  EXPECT_EQ(got.optimizer_steps, want.optimizer_steps);

  // Only the phases this step really has, none negative, and some compute.
  std::set<std::string> phases;
  for (const auto& [name, seconds] : got.phase_seconds.items()) {
    phases.insert(name);
    EXPECT_GE(seconds.get<double>(), 0.0) << name;
  }
  std::set<std::string> expected{"data", "compute", "idle", "update"};
  if (c.split.tp > 1) expected.insert("reduce");
  EXPECT_EQ(phases, expected);
  EXPECT_GT(got.phase_seconds.at("compute").get<double>(), 0.0);
}

INSTANTIATE_TEST_SUITE_P(
    Splits, ThroughTheLoop,
    ::testing::Combine(::testing::Values(Case{"tp2", {2, 1, 1, Schedule::OneFOneB, ""}},
                                         Case{"pp2_gpipe_m4", {1, 2, 4, Schedule::GPipe, ""}},
                                         Case{"pp2_1f1b_m4", {1, 2, 4, Schedule::OneFOneB, ""}}),
                       ::testing::Values("sgd", "adam")),
    [](const auto& param_info) {
      return std::get<0>(param_info.param).name + "_" + std::get<1>(param_info.param);
    });

TEST(WorkerPhases, ComputeReduceAndIdleAddUpToTheWallTime) {
  Utilisation u;
  u.span_us = 900;
  u.busy_us = {600, 400};    // mean 500 us
  u.reduce_us = {100, 300};  // mean 200 us
  PhaseTimer phases;
  book_worker_time(phases, u, 1e-3);
  EXPECT_DOUBLE_EQ(phases.seconds(Phase::Compute), 500e-6);
  EXPECT_DOUBLE_EQ(phases.seconds(Phase::Reduce), 200e-6);
  EXPECT_NEAR(phases.seconds(Phase::Idle), 300e-6, 1e-15);
  EXPECT_NEAR(phases.total(), 1e-3, 1e-15);
  // A pipeline has no all-reduces: no reduce phase at all, and never forward or backward.
  PhaseTimer pipe;
  u.reduce_us = {0, 0};
  book_worker_time(pipe, u, 1e-3);
  EXPECT_FALSE(pipe.ran(Phase::Reduce));
  EXPECT_FALSE(pipe.ran(Phase::Forward));
  EXPECT_FALSE(pipe.ran(Phase::Backward));
  EXPECT_NEAR(pipe.total(), 1e-3, 1e-15);
}

TEST(ModelParallelStep, TheGuardStopsANanStepBeforeItsUpdate) {
  for (const Options& split :
       {Options{2, 1, 1, Schedule::OneFOneB, ""}, Options{1, 2, 4, Schedule::GPipe, ""}}) {
    TrainConfig cfg;
    cfg.hidden = {16, 8};
    Dataset train = make_synthetic(16, 12, 10, 3);
    train.x(5, 7) = std::numeric_limits<float>::quiet_NaN();  // one bad pixel in the batch
    Mlp model(mlp_sizes(12, cfg.hidden, 10));
    he_init(model.layout, model.params, 1);
    const std::vector<float> before = model.params;
    ModelParallelStep step(model, train, cfg, split);
    step.push_state(0);
    const Checkpointer checkpoints(cfg, resume_config(cfg));
    const DivergenceGuard guard(model.layout, checkpoints);
    PhaseTimer phases;
    EpochStats stats;
    const std::vector<std::uint32_t> batch{0, 5, 9, 12};
    EXPECT_THROW(step.step(batch, {1, 1, cfg.lr, phases, guard}, stats), TrainingDiverged);
    step.pull_state();
    EXPECT_EQ(model.params, before) << "tp " << split.tp << ", pp " << split.pp;  // no update was kept
  }
}

}  // namespace
}  // namespace ptt::ch05
