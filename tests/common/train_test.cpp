// The training loop every chapter shares (ptt::TrainingRun::train), tested through the contract a
// chapter's strategy relies on: when push_state, start_epoch, step, flush, pull_state and finish
// are called, with which step numbers and learning rates; that checkpoints and evaluation see
// flushed, pulled state; that only the phases a strategy books are reported; that the divergence
// guard stops the run naming the step; and that a run resumed from a checkpoint continues with the
// same bits as one that never stopped.
#include "ptt/train.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "ptt/checksum.hpp"
#include "ptt/resume.hpp"
#include "tiny_dataset.hpp"

namespace ptt {
namespace {

/// A strategy that records every call of the loop and trains chapter 01's way (SerialStep inside),
/// so that the recorded run is a real one.
class Recorder final : public StepStrategy {
 public:
  Recorder(Mlp& model, const Dataset& train, const TrainConfig& cfg, bool lazy)
      : serial_(model, train, cfg), lazy_(lazy) {}
  StateView host_state() override { return serial_.host_state(); }
  void push_state(long optimizer_steps) override {
    log.push_back("push " + std::to_string(optimizer_steps));
    serial_.push_state(optimizer_steps);
  }
  void pull_state() override { log.push_back("pull"); }
  void start_epoch(const EpochPlan& plan) override {
    log.push_back("epoch " + std::to_string(plan.epoch) + " from " + std::to_string(plan.first_batch));
  }
  void step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) override {
    steps.push_back(ctx.step);
    lrs.push_back(ctx.lr);
    EpochStats mine;
    serial_.step(batch, ctx, lazy_ ? mine : stats);
    if (lazy_) pending.add(static_cast<float>(mine.loss()), mine.correct, mine.samples);
  }
  bool stats_each_step() const override { return !lazy_; }
  void flush(const StepContext&, EpochStats& stats) override {
    log.push_back("flush");
    stats.loss_sum += pending.loss_sum, stats.correct += pending.correct, stats.samples += pending.samples;
    pending = {};
  }
  void finish(Reporter& report) override {
    log.push_back("finish");
    report.extra()["recorded"] = true;
  }

  std::vector<std::string> log;
  std::vector<long> steps;
  std::vector<double> lrs;
  EpochStats pending;

 private:
  SerialStep serial_;
  bool lazy_;
};

class TrainingLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::write_tiny_dataset(::testing::TempDir(), "train_test");  // 44 train, 20 test
    cfg_.data_dir = dir_;
    cfg_.batch_size = 16;  // 3 batches an epoch: 16, 16, 12
    cfg_.epochs = 2;
    cfg_.hidden = {8};
    cfg_.no_progress = true;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  static nlohmann::json last_record(const std::string& file) {
    std::ifstream in(file);
    std::string line, last;
    while (std::getline(in, line)) last = line;
    return nlohmann::json::parse(last);
  }

  std::string dir_;
  TrainConfig cfg_;
};

TEST_F(TrainingLoop, CallsTheStrategyInItsContractOrder) {
  cfg_.checkpoint = path("run.ckpt");
  cfg_.checkpoint_every = 2;
  TrainingRun run("train_test", cfg_);
  Recorder rec(run.model(), run.data().train, cfg_, false);
  run.train(rec);
  const std::vector<std::string> want = {
      "push 0",         "epoch 1 from 0", "flush", "pull",  // checkpoint after step 2
      "flush",          "pull",                             // end of epoch 1
      "epoch 2 from 0", "flush",          "pull",           // step 4
      "flush",          "pull",           "flush", "pull",  // step 6, end of epoch 2
      "finish"};
  EXPECT_EQ(rec.log, want);
  EXPECT_EQ(rec.steps, (std::vector<long>{1, 2, 3, 4, 5, 6}));
  for (std::size_t i = 0; i < rec.lrs.size(); ++i)
    EXPECT_DOUBLE_EQ(rec.lrs[i], scheduled_lr("cosine", cfg_.lr, static_cast<long>(i), 6))
        << "step " << i + 1;
}

TEST_F(TrainingLoop, LazyStatisticsAreFlushedBeforeEachEpochIsReported) {
  cfg_.metrics = path("eager.jsonl");
  TrainingRun eager_run("train_test", cfg_);
  Recorder eager(eager_run.model(), eager_run.data().train, cfg_, false);
  eager_run.train(eager);
  cfg_.metrics = path("lazy.jsonl");
  TrainingRun lazy_run("train_test", cfg_);
  Recorder lazy(lazy_run.model(), lazy_run.data().train, cfg_, true);
  lazy_run.train(lazy);
  std::ifstream a(path("eager.jsonl")), b(path("lazy.jsonl"));
  std::string la, lb;
  for (int epoch = 1; epoch <= 2; ++epoch) {
    ASSERT_TRUE(std::getline(a, la) && std::getline(b, lb));
    const auto ja = nlohmann::json::parse(la), jb = nlohmann::json::parse(lb);
    EXPECT_DOUBLE_EQ(ja["train_loss"].get<double>(), jb["train_loss"].get<double>()) << "epoch " << epoch;
    EXPECT_DOUBLE_EQ(ja["train_acc"].get<double>(), jb["train_acc"].get<double>()) << "epoch " << epoch;
  }
}

TEST_F(TrainingLoop, ReportsOnlyThePhasesTheStrategyBooked) {
  cfg_.metrics = path("m.jsonl");
  TrainingRun run("train_test", cfg_);
  SerialStep step(run.model(), run.data().train, cfg_);
  run.train(step);
  const auto final = last_record(path("m.jsonl"));
  ASSERT_TRUE(final.value("final", false));
  std::vector<std::string> phases;
  for (const auto& [name, seconds] : final["phase_seconds"].items()) {
    phases.push_back(name);
    EXPECT_GT(seconds.get<double>(), 0.0) << name;
  }
  EXPECT_EQ(phases, (std::vector<std::string>{"backward", "data", "forward", "update"}))
      << "chapter 01 has no reduce, step, compute or idle phase";
}

TEST_F(TrainingLoop, FinishAddsItsFieldsToTheFinalRecord) {
  cfg_.metrics = path("m.jsonl");
  TrainingRun run("train_test", cfg_);
  Recorder rec(run.model(), run.data().train, cfg_, false);
  run.train(rec);
  EXPECT_TRUE(last_record(path("m.jsonl")).value("recorded", false));
}

/// A step whose gradient turns NaN at step 3.
class Diverging final : public StepStrategy {
 public:
  Diverging(Mlp& model, const Dataset& train, const TrainConfig& cfg)
      : model_(model), serial_(model, train, cfg) {}
  StateView host_state() override { return serial_.host_state(); }
  void push_state(long n) override { serial_.push_state(n); }
  void step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) override {
    if (ctx.step == 3) {
      model_.grads.assign(model_.grads.size(), 0.0f);
      model_.grads[model_.layout.layer(1).bias] = std::numeric_limits<float>::quiet_NaN();
      ctx.guard.check(0.5f, model_.grads, ctx.step, ctx.epoch);
    }
    serial_.step(batch, ctx, stats);
  }

 private:
  Mlp& model_;
  SerialStep serial_;
};

TEST_F(TrainingLoop, TheGuardStopsTheRunNamingStepAndLayer) {
  cfg_.metrics = path("m.jsonl");
  TrainingRun run("train_test", cfg_);
  Diverging step(run.model(), run.data().train, cfg_);
  try {
    run.train(step);
    FAIL() << "the run went on past a NaN gradient";
  } catch (const TrainingDiverged& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("step 3 (epoch 1)"), std::string::npos) << what;
    EXPECT_NE(what.find("layer 1"), std::string::npos) << what;
    EXPECT_NE(what.find("bias"), std::string::npos) << what;
  }
  EXPECT_FALSE(std::filesystem::exists(path("m.jsonl")))
      << "a diverged run must leave no complete-looking metrics";
}

TEST(DivergenceGuard, FiniteFindsEveryNanAndInfWhereverItIs) {
  std::vector<float> v(1000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) - 500.0f;
  v[7] = std::numeric_limits<float>::max();  // the largest, the smallest and a subnormal are finite
  v[8] = -std::numeric_limits<float>::max();
  v[9] = std::numeric_limits<float>::denorm_min();
  ASSERT_TRUE(DivergenceGuard::finite(v));
  EXPECT_TRUE(DivergenceGuard::finite({}));
  const float bad_values[] = {
      std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
      std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  for (const float bad : bad_values)
    for (const std::size_t at :
         {std::size_t{0}, std::size_t{15}, std::size_t{16}, std::size_t{517}, v.size() - 1}) {
      std::vector<float> w = v;
      w[at] = bad;
      EXPECT_FALSE(DivergenceGuard::finite(w)) << bad << " at " << at;
      EXPECT_TRUE(DivergenceGuard::finite(std::span<const float>(w).subspan(at + 1))) << "after " << at;
    }
}

TEST(DivergenceGuard, FiniteAgreesWithStdIsfiniteOnEveryExponent) {
  // The bit test against the reference, value by value: every exponent (the 8 bits that decide)
  // with sign and mantissa bits set and clear, NaN payloads and the infinities included.
  for (std::uint32_t exponent = 0; exponent < 256; ++exponent)
    for (const std::uint32_t rest :
         {0x00000000u, 0x00000001u, 0x00400000u, 0x007fffffu, 0x80000000u, 0x80612345u}) {
      const float x = std::bit_cast<float>((exponent << 23) | rest);
      EXPECT_EQ(DivergenceGuard::finite(std::span<const float>(&x, 1)), static_cast<bool>(std::isfinite(x)))
          << std::hex << ((exponent << 23) | rest);
    }
}

/// Chapter 01's step that dies (like a killed process) when it reaches step @p crash_at.
class Crashing final : public StepStrategy {
 public:
  Crashing(Mlp& model, const Dataset& train, const TrainConfig& cfg, long crash_at)
      : serial_(model, train, cfg), crash_at_(crash_at) {}
  StateView host_state() override { return serial_.host_state(); }
  void push_state(long n) override { serial_.push_state(n); }
  void step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) override {
    if (ctx.step == crash_at_) throw std::runtime_error("killed");
    serial_.step(batch, ctx, stats);
  }

 private:
  SerialStep serial_;
  long crash_at_;
};

TEST_F(TrainingLoop, ResumedRunEndsWithTheSameBits) {
  cfg_.epochs = 3;  // 9 steps
  cfg_.optimizer = "adam";
  cfg_.lr = 0.01;
  cfg_.metrics = path("whole.jsonl");
  TrainingRun whole("train_test", cfg_);
  SerialStep a(whole.model(), whole.data().train, cfg_);
  whole.train(a);
  const auto want = last_record(path("whole.jsonl"));

  for (long crash_at : {3L, 5L, 8L}) {  // inside epoch 1, inside epoch 2 after its checkpoint, inside epoch 3
    TrainConfig cfg = cfg_;
    cfg.metrics = path("resumed.jsonl");
    cfg.checkpoint = path("r.ckpt");
    cfg.checkpoint_every = 2;
    std::filesystem::remove(cfg.checkpoint);
    {
      TrainingRun killed("train_test", cfg);
      Crashing b(killed.model(), killed.data().train, cfg, crash_at);
      EXPECT_THROW(killed.train(b), std::runtime_error);
    }
    cfg.resume = true;
    TrainingRun resumed("train_test", cfg);
    SerialStep c(resumed.model(), resumed.data().train, cfg);
    resumed.train(c);
    const auto got = last_record(path("resumed.jsonl"));
    EXPECT_EQ(got["param_checksum"], want["param_checksum"]) << "killed at step " << crash_at;
    EXPECT_EQ(got["steps"], 9) << "killed at step " << crash_at;
  }
}

/// A process that does not lead: it trains, but prints, evaluates and writes nothing.
class Follower final : public Team {
 public:
  bool leader() const override { return false; }
};

TEST_F(TrainingLoop, AFollowerWritesNothing) {
  cfg_.metrics = path("m.jsonl");
  cfg_.checkpoint = path("f.ckpt");
  Follower team;
  TrainingRun run("train_test", cfg_, {}, &team);
  SerialStep step(run.model(), run.data().train, cfg_);
  const Evaluation test = run.train(step);
  EXPECT_FALSE(std::filesystem::exists(path("m.jsonl")));
  EXPECT_FALSE(std::filesystem::exists(path("f.ckpt")));
  EXPECT_EQ(test.accuracy, 0.0) << "only the leader evaluates";
}

}  // namespace
}  // namespace ptt
