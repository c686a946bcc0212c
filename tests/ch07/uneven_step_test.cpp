// Chapter 07: the step on uneven shards.
//   - Synchronous (gradients every step): every split gives chapter 01's parameters on the same
//     global batches (< 1e-5), whatever the split, on any number of ranks.
//   - Local SGD with H = 1 (plain SGD, and with momentum) equals chapter 03 on the batches the
//     ranks drew; after H local steps the averaging gives the n_k / n-weighted mean of the
//     replicas trained independently; average_models() itself weighs by n_k / n, state included.
#include "ch07/uneven_step.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <memory>
#include <numeric>
#include <string>

#include "ch03/distributed.hpp"
#include "ch03/mpi_runtime.hpp"
#include "ch07/model_average.hpp"
#include "mpi_test_util.hpp"
#include "ptt/data.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "split_names.hpp"
#include "test_util.hpp"

namespace ptt::ch07 {
namespace {

using test::relative_error;

using test::world_rank;
using test::world_size;

TrainConfig config(double momentum, std::uint64_t seed = 11) {
  TrainConfig cfg;
  cfg.optimizer = "sgd";
  cfg.lr = 0.05;
  cfg.momentum = momentum;
  cfg.seed = seed;
  return cfg;
}

// Drives a strategy as the core's loop does (constant learning rate), for `steps` steps.
void drive(StepStrategy& step, const Mlp& model, std::size_t samples, std::size_t batch,
           const TrainConfig& cfg, long steps) {
  Checkpointer checkpoints(cfg, nlohmann::json::object(), world_rank() == 0);
  const DivergenceGuard guard(model.layout, checkpoints);
  PhaseTimer phases;
  BatchSampler sampler(samples, batch, cfg.seed);
  step.push_state(0);
  long done = 0;
  for (int epoch = 1; done < steps; ++epoch) {
    EpochStats stats;
    sampler.start_epoch(std::uint64_t(epoch));
    step.start_epoch({epoch, sampler, 0, done, steps});
    std::size_t b = 0;
    for (; b < sampler.num_batches() && done < steps; ++b, ++done)
      step.step(sampler.batch(b), StepContext{done + 1, epoch, cfg.lr, phases, guard}, stats);
    step.flush(StepContext{done, epoch, cfg.lr, phases, guard}, stats);
    EXPECT_GT(stats.samples, 0u);
  }
}

// Chapter 01 on the global batches.
std::vector<float> serial(const Dataset& data, const std::vector<int>& sizes, std::size_t batch,
                          const TrainConfig& cfg, long steps) {
  Mlp model(sizes);
  he_init(model.layout, model.params, 3);
  SerialStep step(model, data, cfg);
  drive(step, model, std::size_t(data.size()), batch, cfg, steps);
  return model.params;
}

class SynchronousSplit : public ::testing::TestWithParam<SplitKind> {};

TEST_P(SynchronousSplit, EqualsChapter01AfterSteps) {
  // 203 samples, global batch 16: a partial last batch, and 20 steps cross an epoch boundary.
  // Skewed splits leave ranks with few (or, Dirichlet, no) samples of a batch.
  const Dataset data = make_synthetic(203, 24, 5, 2);
  const std::vector<int> sizes{24, 20, 12, 5};
  const TrainConfig cfg = config(0.9);
  const long steps = 20;
  SplitOptions o;
  o.kind = GetParam();
  o.alpha = 0.2;
  o.classes_per_rank = 2;
  const Shards shards = make_split(o, data.y, 5, world_size(), 4);
  Mlp model(sizes);
  he_init(model.layout, model.params, 3);
  UnevenStep step(model, data, cfg, shards, SyncOptions{}, MPI_COMM_WORLD);
  drive(step, model, std::size_t(data.size()), 16, cfg, steps);
  const std::vector<float> ref = serial(data, sizes, 16, cfg, steps);
  EXPECT_LT(relative_error(model.params, ref), 1e-5);
  EXPECT_NO_THROW(ch03::check_replicas(model.params, MPI_COMM_WORLD)) << "ranks disagree";
  EXPECT_EQ(step.syncs(), steps);
  EXPECT_EQ(step.sync_bytes(), std::uint64_t(steps) * model.params.size() * sizeof(float));
}

INSTANTIATE_TEST_SUITE_P(Splits, SynchronousSplit,
                         ::testing::Values(SplitKind::Random, SplitKind::ByClass, SplitKind::Dirichlet,
                                           SplitKind::Stratified),
                         [](const auto& param_info) {
                           return ptt::ch07::testing::split_test_name(param_info.param);
                         });

// Uneven hand-made shards: rank k holds a contiguous block of size proportional to k + 1.
Shards uneven_shards(std::size_t n, int ranks) {
  Shards shards(static_cast<std::size_t>(ranks));
  const std::size_t units = std::size_t(ranks) * std::size_t(ranks + 1) / 2;
  std::size_t begin = 0;
  for (int k = 0; k < ranks; ++k) {
    const std::size_t end = k == ranks - 1 ? n : begin + n * std::size_t(k + 1) / units;
    for (std::size_t i = begin; i < end; ++i) shards[std::size_t(k)].push_back(std::uint32_t(i));
    begin = end;
  }
  return shards;
}

TEST(ModelAverage, WeightedByShardSizeNotByRankCount) {
  // Rank k holds value k + 1 everywhere, with weight w_k proportional to k + 1.
  const int p = world_size(), r = world_rank();
  const double units = double(p) * (p + 1) / 2;
  std::vector<float> params(37, float(r + 1)), state(74, float(2 * (r + 1)));
  average_models(params, state, double(r + 1) / units, MPI_COMM_WORLD);
  double want = 0.0;  // sum_k (k + 1) (k + 1) / units
  for (int k = 0; k < p; ++k) want += double(k + 1) * double(k + 1) / units;
  const std::vector<float> want_params(37, float(want)), want_state(74, float(2 * want));
  EXPECT_LT(relative_error(params, want_params), 1e-6);
  EXPECT_LT(relative_error(state, want_state), 1e-6) << "the optimizer state is averaged like the weights";
  if (p > 1 && r == 0) {  // what the stub would give (its own values) is far from it
    std::vector<float> mine(37, float(r + 1));
    EXPECT_GT(relative_error(params, mine), 1e-3);
  }
}

TEST(ModelAverage, AllRanksEndIdentical) {
  const int r = world_rank();
  std::vector<float> params(1000), state;
  for (std::size_t i = 0; i < params.size(); ++i) params[i] = float(i % 7) * 0.1f + float(r) * 0.37f;
  average_models(params, state, 1.0 / world_size(), MPI_COMM_WORLD);
  std::vector<float> rank0 = params;
  MPI_Bcast(rank0.data(), int(rank0.size()), MPI_FLOAT, 0, MPI_COMM_WORLD);
  EXPECT_EQ(params, rank0);
  std::vector<float> before(1000);
  for (std::size_t i = 0; i < before.size(); ++i) before[i] = float(i % 7) * 0.1f + float(r) * 0.37f;
  if (world_size() > 1) {
    EXPECT_NE(params, before) << "nothing was averaged";
  }
}

// The ranks' local batches as UnevenStep draws them, and chapter 03 fed with their concatenation.
TEST(LocalSgd, SyncEveryStepEqualsChapter03) {
  // 480 samples, random split: n_k = 480 / p each, local batches of exactly 8 (global 8p), so
  // b_k / |B| = n_k / n and averaging after every step is chapter 03's update, momentum included.
  const int p = world_size(), r = world_rank();
  const Dataset data = make_synthetic(480, 24, 5, 6);
  const std::vector<int> sizes{24, 20, 12, 5};
  const std::size_t global = 8 * std::size_t(p);
  const long steps = long(480 / global) + 3;  // crosses an epoch boundary
  const Shards shards = random_split(480, p, 4);
  for (double momentum : {0.0, 0.9}) {
    const TrainConfig cfg = config(momentum);
    Mlp model(sizes);
    he_init(model.layout, model.params, 3);
    UnevenStep step(model, data, cfg, shards, SyncOptions{SyncKind::Steps, 1, true}, MPI_COMM_WORLD);
    drive(step, model, 480, global, cfg, steps);

    // Chapter 03 on batches [rank 0's local batch i, rank 1's, ...].
    std::vector<float> params(model.layout.size()), grads(model.layout.size());
    he_init(model.layout, params, 3);
    Sgd sgd(params.size(), float(cfg.lr), float(momentum));
    ch03::DistributedStep ddp(model.layout, ch03::Options{}, MPI_COMM_WORLD);
    const std::size_t batches = 480 / global;
    long done = 0;
    for (int epoch = 1; done < steps; ++epoch) {
      const auto order = local_epoch_order(shards[std::size_t(r)], cfg.seed, epoch, r);
      for (std::size_t b = 0; b < batches && done < steps; ++b, ++done) {
        const Range mine = shard_range(order.size(), b, batches);
        ASSERT_EQ(mine.size(), 8u);
        std::vector<std::uint32_t> batch(global);
        MPI_Allgather(order.data() + mine.begin, 8, MPI_UINT32_T, batch.data(), 8, MPI_UINT32_T,
                      MPI_COMM_WORLD);
        ddp.step(params, grads, data, batch, &sgd, nullptr);
      }
    }
    EXPECT_LT(relative_error(step.local_params(), params), 1e-5) << "momentum " << momentum;
    EXPECT_EQ(step.syncs(), steps);
  }
}

// Uneven shards (n_k proportional to k + 1), H = 5: five local steps, then one averaging, with
// SGD with momentum (one state float per parameter) or Adam (two moments per parameter).
void expect_weighted_mean_of_independent_runs(const std::string& optimizer) {
  const int p = world_size(), r = world_rank();
  const Dataset data = make_synthetic(300, 24, 5, 8);
  const std::vector<int> sizes{24, 20, 5};
  TrainConfig cfg = config(0.9);
  cfg.optimizer = optimizer;
  if (optimizer == "adam") cfg.lr = 0.002;
  const Shards shards = uneven_shards(300, p);
  const std::size_t global = 30;  // 10 batches per epoch
  const long h = 5;
  Mlp model(sizes);
  he_init(model.layout, model.params, 3);
  UnevenStep step(model, data, cfg, shards, SyncOptions{SyncKind::Steps, h, true}, MPI_COMM_WORLD);
  drive(step, model, 300, global, cfg, h - 1);
  std::vector<float> apart(step.local_params().begin(), step.local_params().end());
  const std::vector<float> first = [&] {
    std::vector<float> v = apart;
    MPI_Bcast(v.data(), int(v.size()), MPI_FLOAT, 0, MPI_COMM_WORLD);
    return v;
  }();
  if (p > 1 && r == p - 1) {
    EXPECT_NE(apart, first) << "before the averaging the replicas must differ";
  }
  UnevenStep step2(model, data, cfg, shards, SyncOptions{SyncKind::Steps, h, true}, MPI_COMM_WORLD);
  he_init(model.layout, model.params, 3);
  drive(step2, model, 300, global, cfg, h);

  // Each rank alone: H plain steps with its own optimizer on its own local batches.
  std::vector<float> mine(model.layout.size()), grads(model.layout.size());
  he_init(model.layout, mine, 3);
  const std::unique_ptr<Optimizer> alone = make_optimizer(cfg.optimizer, mine.size(), cfg.lr, cfg.momentum);
  const auto order = local_epoch_order(shards[std::size_t(r)], cfg.seed, 1, r);
  Workspace ws;
  Matrix x;
  std::vector<std::uint8_t> y;
  for (long s = 0; s < h; ++s) {
    const Range b = shard_range(order.size(), std::size_t(s), 10);
    gather(data, std::span<const std::uint32_t>(order).subspan(b.begin, b.size()), x, y);
    mlp_forward(model.layout, mine, x, ws);
    mlp_backward(model.layout, mine, y, ws, grads);
    alone->step(mine, grads);
  }
  // The weighted mean, computed here in double from every rank's parameters.
  std::vector<float> all(mine.size() * std::size_t(p));
  MPI_Allgather(mine.data(), int(mine.size()), MPI_FLOAT, all.data(), int(mine.size()), MPI_FLOAT,
                MPI_COMM_WORLD);
  std::vector<float> want(mine.size());
  for (std::size_t i = 0; i < mine.size(); ++i) {
    double sum = 0.0;
    for (int k = 0; k < p; ++k)
      sum += double(shards[std::size_t(k)].size()) / 300.0 * double(all[std::size_t(k) * mine.size() + i]);
    want[i] = float(sum);
  }
  EXPECT_LT(relative_error(step2.local_params(), want), 1e-5);
  EXPECT_EQ(step2.syncs(), 1);
  // The optimizer state travels with the weights: the velocity (P floats) or Adam's moments (2P).
  const std::size_t state_floats = alone->state().size();
  EXPECT_EQ(state_floats, optimizer == "adam" ? 2 * mine.size() : mine.size());
  EXPECT_EQ(step2.sync_bytes(), (mine.size() + state_floats) * sizeof(float));
  EXPECT_NO_THROW(ch03::check_replicas(step2.local_params(), MPI_COMM_WORLD));
}

TEST(LocalSgd, AveragingAfterHStepsIsTheWeightedMeanOfIndependentRuns) {
  expect_weighted_mean_of_independent_runs("sgd");
}

TEST(LocalSgd, AveragingAfterHStepsWithAdamIsTheWeightedMeanOfIndependentRuns) {
  expect_weighted_mean_of_independent_runs("adam");
}

// Any cut of the global batch, a rank with zero samples included, gives chapter 01's weights.
TEST(SpeedShares, ExactForAnyShareVectorIncludingAnEmptyRank) {
  const int p = world_size();
  const Dataset data = make_synthetic(203, 24, 5, 2);
  const std::vector<int> sizes{24, 20, 12, 5};
  const TrainConfig cfg = config(0.9);
  const long steps = 20;
  const std::vector<float> ref = serial(data, sizes, 16, cfg, steps);
  std::vector<std::vector<double>> cases{std::vector<double>(std::size_t(p), 1.0)};
  std::vector<double> skewed(static_cast<std::size_t>(p));
  for (int k = 0; k < p; ++k) skewed[std::size_t(k)] = double(k);  // rank 0: nothing
  if (p > 1) cases.push_back(skewed);
  std::vector<double> last_only(std::size_t(p), 0.0);
  last_only.back() = 1.0;  // one rank computes the whole batch
  cases.push_back(last_only);
  for (const auto& shares : cases) {
    Mlp model(sizes);
    he_init(model.layout, model.params, 3);
    BalanceOptions balance;
    balance.shares = shares;
    UnevenStep step(model, data, cfg, random_split(203, p, 4), SyncOptions{}, MPI_COMM_WORLD, nullptr,
                    balance);
    drive(step, model, 203, 16, cfg, steps);
    EXPECT_LT(relative_error(model.params, ref), 1e-5) << "shares[0] " << shares[0];
    // The last step's batch (step 20: batch 7 of epoch 2, 16 samples) was dealt by the shares.
    const auto& counts = step.last_counts();
    ASSERT_EQ(counts.size(), std::size_t(p));
    EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), std::size_t(0)), 16u);
    const double total = std::accumulate(shares.begin(), shares.end(), 0.0);
    for (int k = 0; k < p; ++k)
      EXPECT_LT(std::abs(double(counts[std::size_t(k)]) - 16.0 * shares[std::size_t(k)] / total), 1.0)
          << "rank " << k;
    if (shares[0] == 0.0) {
      EXPECT_EQ(counts[0], 0u);
    }
  }
}

TEST(SpeedShares, MeasuredSpeedsWithASlowRankStayExact) {
  // Whatever the measured speeds (they depend on timing), the cut is exact: rank 0 is slowed 3x
  // and the parts are re-measured every 4 steps.
  const int p = world_size();
  const Dataset data = make_synthetic(203, 24, 5, 2);
  const std::vector<int> sizes{24, 20, 12, 5};
  const TrainConfig cfg = config(0.9);
  const long steps = 20;
  Mlp model(sizes);
  he_init(model.layout, model.params, 3);
  BalanceOptions balance;
  balance.by_speed = true;
  balance.every = 4;
  balance.slow_rank = 0;
  balance.slowdown = 3.0;
  UnevenStep step(model, data, cfg, random_split(203, p, 4), SyncOptions{}, MPI_COMM_WORLD, nullptr, balance);
  drive(step, model, 203, 16, cfg, steps);
  EXPECT_LT(relative_error(model.params, serial(data, sizes, 16, cfg, steps)), 1e-5);
  EXPECT_NO_THROW(ch03::check_replicas(model.params, MPI_COMM_WORLD));
}

TEST(LocalSgd, ResamplingWithinEachShardIsReproducibleAndChangesTheRun) {
  const int p = world_size();
  const Dataset data = make_synthetic(300, 24, 5, 8);
  const std::vector<int> sizes{24, 20, 5};
  const TrainConfig cfg = config(0.9);
  const Shards shards = make_split({SplitKind::Dirichlet, 0.2, 2}, data.y, 5, p, 3);
  auto run = [&](bool resample) {
    Mlp model(sizes);
    he_init(model.layout, model.params, 3);
    UnevenStep step(model, data, cfg, shards, SyncOptions{SyncKind::Steps, 4, true}, MPI_COMM_WORLD);
    if (resample) step.set_classes({{}, ClassBalance::Resample, {}});
    drive(step, model, 300, 30, cfg, 12);  // three averagings
    return std::vector<float>(step.local_params().begin(), step.local_params().end());
  };
  const auto a = run(true);
  EXPECT_EQ(a, run(true)) << "the draws are seeded";
  EXPECT_NE(a, run(false)) << "resampling changes the batches";
  EXPECT_NO_THROW(ch03::check_replicas(a, MPI_COMM_WORLD)) << "after an averaging the replicas agree";
}

}  // namespace
}  // namespace ptt::ch07
