// Chapter 02's step in the core's training loop: whole steps with an optimizer equal chapter 01's
// (ptt::SerialStep) on the same batches, and the divergence guard stops a step before its update
// is kept, naming the step and the layer.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cfloat>
#include <filesystem>
#include <functional>
#include <string>

#include "ch02/data_parallel_step.hpp"
#include "ptt/data.hpp"
#include "ptt/mlp.hpp"
#include "ptt/train.hpp"
#include "test_util.hpp"

namespace ptt::ch02 {
namespace {

using test::relative_error;

const char* describe(const Options& o) {
  return o.deterministic ? "deterministic" : reduction_name(o.reduction);
}

// Every mode of the chapter on 1-3 threads (deterministic: 5 shards).
std::vector<Options> every_mode() {
  std::vector<Options> modes;
  for (int threads : {1, 2, 3}) {
    for (Reduction r : {Reduction::Buffers, Reduction::Owner, Reduction::Atomic, Reduction::Critical})
      modes.push_back(Options{threads, false, 8, r});
    modes.push_back(Options{threads, true, 5, Reduction::Buffers});
  }
  return modes;
}

// What the core's loop hands a strategy, for steps driven one by one (no data set on disk).
struct Loop {
  TrainConfig cfg;
  Checkpointer checkpoints{cfg, nlohmann::json::object()};
  PhaseTimer phases;
  Loop(const std::string& optimizer, double lr) {
    cfg.optimizer = optimizer;
    cfg.lr = lr;
    cfg.momentum = 0.9;
  }
  StepContext context(const DivergenceGuard& guard, long step, int epoch = 1) {
    return {step, epoch, cfg.lr, phases, guard};
  }
};

// `steps` steps of `strategy` on 499 synthetic samples in batches of 50 (the last one partial),
// in the order the core's loop draws them; `before_step` sees the model before each step.
void run_steps(StepStrategy& strategy, Mlp& model, Loop& loop, long steps,
               const std::function<void(long)>& before_step = nullptr) {
  BatchSampler sampler(499, 50, 4);
  const DivergenceGuard guard(model.layout, loop.checkpoints);
  strategy.push_state(0);
  EpochStats stats;
  for (long s = 1; s <= steps; ++s) {
    const auto n = static_cast<long>(sampler.num_batches());
    const int epoch = static_cast<int>((s - 1) / n + 1);
    const auto b = static_cast<std::size_t>((s - 1) % n);
    if (b == 0) sampler.start_epoch(static_cast<std::uint64_t>(epoch));
    if (before_step) before_step(s);
    strategy.step(sampler.batch(b), loop.context(guard, s, epoch), stats);
  }
}

struct Trained {
  std::vector<float> params;
  long optimizer_steps;
};

template <class Make>
Trained train(const std::string& optimizer, long steps, Make make_strategy) {
  Mlp model({32, 24, 16, 5});
  he_init(model.layout, model.params, 9);
  Loop loop(optimizer, optimizer == "sgd" ? 0.05 : 0.003);
  auto strategy = make_strategy(model, loop.cfg);
  run_steps(*strategy, model, loop, steps);
  return {model.params, strategy->host_state().optimizer_steps};
}

// --- whole steps against chapter 01 ------------------------------------------------------------

TEST(DataParallelStep, WholeStepsWithTheOptimizerMatchSerialStep) {
  // 25 steps (2.5 epochs, partial batches included) with SGD and with Adam: the parameters stay
  // within 1e-5 of chapter 01's, for every mode; one shard (one thread, fast) is chapter 01 bit for bit.
  Eigen::setNbThreads(1);  // chapter 01's products on one thread, as ch01_serial runs them
  const Dataset data = make_synthetic(499, 32, 5, 8);
  for (const char* optimizer : {"sgd", "adam"}) {
    const Trained serial = train(optimizer, 25, [&](Mlp& m, const TrainConfig& cfg) {
      return std::make_unique<SerialStep>(m, data, cfg);
    });
    for (const Options& o : every_mode()) {
      SCOPED_TRACE(std::string(optimizer) + ", " + describe(o) + ", " + std::to_string(o.threads) +
                   " threads");
      const Trained dp = train(optimizer, 25, [&](Mlp& m, const TrainConfig& cfg) {
        return std::make_unique<DataParallelStep>(m, data, cfg, o);
      });
      EXPECT_LT(relative_error(dp.params, serial.params), 1e-5);
      EXPECT_EQ(dp.optimizer_steps, serial.optimizer_steps);
      const bool one_shard = o.threads == 1 && !o.deterministic;
      if (one_shard && (o.reduction == Reduction::Buffers || o.reduction == Reduction::Owner)) {
        EXPECT_EQ(dp.params, serial.params) << "one shard of weight 1 must be chapter 01's computation";
      }
    }
  }
}

TEST(DataParallelStep, ThroughTheCoreLoopMatchesSerialStepOnFashionMnist) {
  // TrainingRun::train itself (batches, learning-rate schedule, evaluation) with each strategy.
  TrainConfig cfg;
  cfg.data_dir = default_data_dir();
  if (!std::filesystem::exists(cfg.data_dir + "/train-images-idx3-ubyte.gz") &&
      !std::filesystem::exists(cfg.data_dir + "/train-images-idx3-ubyte"))
    GTEST_SKIP() << "Fashion-MNIST not found in " << cfg.data_dir << " (install dataset-fashion-mnist)";
  Eigen::setNbThreads(1);
  cfg.hidden = {64, 32};
  cfg.epochs = 1;
  cfg.max_steps = 40;
  cfg.no_progress = true;
  auto final_params = [&](auto make_strategy) {
    TrainingRun run("ch02_test", cfg);
    auto strategy = make_strategy(run);
    run.train(*strategy);
    return run.model().params;
  };
  const std::vector<float> serial = final_params(
      [&](TrainingRun& run) { return std::make_unique<SerialStep>(run.model(), run.data().train, cfg); });
  for (Reduction r : {Reduction::Buffers, Reduction::Owner}) {
    SCOPED_TRACE(reduction_name(r));
    const std::vector<float> dp = final_params([&](TrainingRun& run) {
      return std::make_unique<DataParallelStep>(run.model(), run.data().train, cfg, Options{3, false, 8, r});
    });
    EXPECT_LT(relative_error(dp, serial), 1e-5);
  }
}

// --- the divergence guard --------------------------------------------------------------------------

TEST(DataParallelStep, GuardStopsADivergingRunBeforeItsUpdate) {
  // A learning rate of 1e6 makes the loss overflow within a few steps. The step that sees it must
  // throw, naming itself, with the parameters and the optimizer state of the step before.
  const Dataset data = make_synthetic(499, 32, 5, 8);
  for (const Options& o : every_mode()) {
    SCOPED_TRACE(std::string(describe(o)) + ", " + std::to_string(o.threads) + " threads");
    Mlp model({32, 24, 16, 5});
    he_init(model.layout, model.params, 9);
    Loop loop("sgd", 1e6);
    DataParallelStep strategy(model, data, loop.cfg, o);
    std::vector<float> params_before, state_before;
    long last = 0;
    try {
      run_steps(strategy, model, loop, 30, [&](long s) {
        params_before = model.params;
        const std::span<const float> state = strategy.host_state().optimizer_state;
        state_before.assign(state.begin(), state.end());
        last = s;
      });
      ADD_FAILURE() << "30 steps with lr 1e6 did not diverge";
    } catch (const TrainingDiverged& e) {
      EXPECT_GE(last, 2);  // the first step starts from finite parameters
      EXPECT_NE(
          std::string(e.what()).find("training diverged at step " + std::to_string(last) + " (epoch 1)"),
          std::string::npos)
          << e.what();
      EXPECT_EQ(model.params, params_before) << "the diverged step's update was kept";
      const std::span<const float> state = strategy.host_state().optimizer_state;
      EXPECT_EQ(std::vector<float>(state.begin(), state.end()), state_before)
          << "the optimizer state changed";
    }
  }
}

TEST(DataParallelStep, GuardNamesTheLayerOfANonFiniteGradient) {
  // A finite loss with an infinite gradient in layer 0 only: input feature 0 is FLT_MAX in every
  // sample but its weights are zero (the forward pass never sees it), while the weights of layer
  // 1 that read neurons 150-199, scaled by 1e4, make dL/d(those neurons) large: dW_0[k, 0] =
  // sum_i delta_1[i, k] * FLT_MAX overflows for k >= 150 only, in the second chunk of the
  // gradient (kCombineChunk), which is not thread 0's with 3 or 7 threads. Each thread checks
  // only its part of the gradient: whichever holds the overflow, no thread may update.
  Dataset data = make_synthetic(64, 32, 5, 8);
  data.x.col(0).setConstant(FLT_MAX);
  std::vector<std::uint32_t> batch(64);
  for (std::uint32_t i = 0; i < 64; ++i) batch[i] = i;
  auto make_model = [] {
    Mlp model({32, 200, 16, 5});  // layer 0: 6400 weights, more than one chunk (kCombineChunk)
    he_init(model.layout, model.params, 9);
    const std::span<float> params(model.params);
    linear_view(model.layout, params, 0).W.col(0).setZero();
    linear_view(model.layout, params, 1).W.rightCols(50) *= 1e4f;
    return model;
  };
  {  // the premise, in chapter 01's computation
    Mlp model = make_model();
    Workspace ws;
    mlp_forward(model.layout, model.params, data.x, ws);
    ASSERT_TRUE(std::isfinite(mlp_backward(model.layout, model.params, data.y, ws, model.grads)));
    const std::span<const float> g(model.grads);
    const LayerSlot& l0 = model.layout.layer(0);
    ASSERT_TRUE(DivergenceGuard::finite(g.subspan(0, kCombineChunk)));  // thread 0's first chunk
    ASSERT_FALSE(DivergenceGuard::finite(g.subspan(0, l0.end)));        // layer 0, from row 150 on
    ASSERT_TRUE(DivergenceGuard::finite(g.subspan(l0.end)));
  }
  std::vector<Options> modes = every_mode();
  modes.push_back(Options{7, false, 8, Reduction::Owner});
  modes.push_back(Options{7, false, 8, Reduction::Buffers});
  for (const Options& o : modes) {
    SCOPED_TRACE(std::string(describe(o)) + ", " + std::to_string(o.threads) + " threads");
    Mlp model = make_model();
    const std::vector<float> before = model.params;
    Loop loop("adam", 0.001);
    DataParallelStep strategy(model, data, loop.cfg, o);
    strategy.push_state(0);
    const DivergenceGuard guard(model.layout, loop.checkpoints);
    EpochStats stats;
    try {
      strategy.step(batch, loop.context(guard, 7), stats);
      ADD_FAILURE() << "no divergence reported";
    } catch (const TrainingDiverged& e) {
      const std::string what = e.what();
      EXPECT_NE(
          what.find("training diverged at step 7 (epoch 1): the gradient of layer 0 (32 -> 200, weights)"),
          std::string::npos)
          << what;
    }
    EXPECT_EQ(model.params, before);
    EXPECT_EQ(strategy.host_state().optimizer_steps, 0) << "Adam counted an update that did not happen";
  }
}

TEST(DataParallel, GradientAloneNeverSkipsAnything) {
  // gradient() (chapter 03's use) has no update to guard: update_skipped() stays false.
  const Dataset data = make_synthetic(40, 8, 3, 2);
  ParamLayout layout({8, 6, 3});
  std::vector<float> params(layout.size(), 1e30f), grads(layout.size());
  DataParallel dp(layout, Options{2, false, 8, Reduction::Buffers});
  dp.gradient(params, data.x, data.y, grads, nullptr);
  EXPECT_FALSE(dp.update_skipped());
}

}  // namespace
}  // namespace ptt::ch02
