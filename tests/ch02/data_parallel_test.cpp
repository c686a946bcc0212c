// Chapter 02: the data-parallel gradient equals chapter 01's on the same batch, for any thread
// count and batch size; the deterministic mode gives the same bits for any thread count.
#include "ch02/data_parallel.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "ptt/checksum.hpp"
#include "ptt/data.hpp"
#include "ptt/metrics.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "test_util.hpp"

namespace ptt::ch02 {
namespace {

// --- TODO(02.1): the split ----------------------------------------------------------------------

TEST(SplitBatch, ContiguousInOrderSizesWithinOne) {
  for (std::size_t batch : {0u, 1u, 7u, 128u, 250u})
    for (int k = 1; k <= 9; ++k) {
      const std::vector<Range> s = split_batch(batch, k);
      ASSERT_EQ(s.size(), std::size_t(k));
      std::size_t next = 0;
      for (int i = 0; i < k; ++i) {
        EXPECT_EQ(s[std::size_t(i)].begin, next) << batch << " rows, " << k << " shards";
        next = s[std::size_t(i)].end;
        // the first batch % k shards hold one row more than the rest
        EXPECT_EQ(s[std::size_t(i)].size(),
                  batch / std::size_t(k) + (std::size_t(i) < batch % std::size_t(k) ? 1 : 0));
      }
      EXPECT_EQ(next, batch);
    }
}

// --- TODO(02.2): the weights ----------------------------------------------------------------------

TEST(ShardWeights, ProportionalToShardSizes) {
  const std::vector<Range> s{{0, 3}, {3, 5}, {5, 7}, {7, 7}};
  const std::vector<float> w = shard_weights(s);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_FLOAT_EQ(w[0], 3.0f / 7);
  EXPECT_FLOAT_EQ(w[1], 2.0f / 7);
  EXPECT_FLOAT_EQ(w[2], 2.0f / 7);
  EXPECT_EQ(w[3], 0.0f);  // an empty shard (more workers than samples) counts for nothing
}

// --- TODO(02.3): the combination ------------------------------------------------------------------

TEST(CombineRange, WeightedSumInShardOrderOverTheRangeOnly) {
  GradientBuffers g(3, 10);
  for (std::size_t k = 0; k < 3; ++k)
    for (std::size_t i = 0; i < 10; ++i) g[k][i] = float(k + 1) * 0.1f + float(i);
  const std::vector<float> w{0.5f, 0.25f, 0.25f};
  std::vector<float> out(10, -7.0f);
  combine_range(g, w, out, 2, 8);
  for (std::size_t i = 0; i < 10; ++i) {
    if (i < 2 || i >= 8) {
      EXPECT_EQ(out[i], -7.0f) << "wrote outside [begin, end) at " << i;
      continue;
    }
    float expected = w[0] * g[0][i];  // the same operations in the same order: equal bits
    expected += w[1] * g[1][i];
    expected += w[2] * g[2][i];
    EXPECT_EQ(out[i], expected) << i;
  }
}

TEST(CombineRange, SkipsEmptyShards) {
  GradientBuffers g(2, 4);
  for (std::size_t i = 0; i < 4; ++i) {
    g[0][i] = float(i + 1);
    g[1][i] = std::numeric_limits<float>::quiet_NaN();  // an empty shard's buffer is never written
  }
  std::vector<float> out(4);
  combine_range(g, std::vector<float>{1.0f, 0.0f}, out, 0, 4);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(out[i], float(i + 1));
}

// --- the whole step against chapter 01 -------------------------------------------------------------

struct Problem {
  ParamLayout layout{{64, 48, 24, 10}};
  std::vector<float> params = std::vector<float>(layout.size());
  Dataset data;
  explicit Problem(std::size_t batch) : data(make_synthetic(batch, 64, 10, 3)) { he_init(layout, params, 5); }

  // Chapter 01's gradient of the whole batch.
  std::pair<float, std::vector<float>> serial() const {
    std::vector<float> g(layout.size());
    Workspace ws;
    mlp_forward(layout, params, data.x, ws);
    const float loss = mlp_backward(layout, params, data.y, ws, g);
    return {loss, g};
  }
};

using test::relative_error;

// The gradient, loss and correct-prediction count of one DataParallel step equal chapter 01's on
// the same batch.
void expect_matches_serial(const Options& options, int batch) {
  Problem p{std::size_t(batch)};
  const auto [loss_ref, g_ref] = p.serial();
  DataParallel dp(p.layout, options);
  std::vector<float> g(p.layout.size(), std::nanf(""));
  const float loss = dp.gradient(p.params, p.data.x, p.data.y, g, nullptr);
  EXPECT_LT(relative_error(g, g_ref), 1e-5);
  EXPECT_NEAR(loss, loss_ref, 1e-5 * std::abs(loss_ref));
  Workspace ws;
  mlp_forward(p.layout, p.params, p.data.x, ws);
  EXPECT_EQ(dp.last_correct(), count_correct(ws.logits(), p.data.y));
}

class GradientMatchesSerial : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(GradientMatchesSerial, FastMode) {
  const auto [threads, batch] = GetParam();
  expect_matches_serial(Options{threads, false, 8, Reduction::Buffers}, batch);
}

TEST_P(GradientMatchesSerial, DeterministicMode) {
  const auto [threads, batch] = GetParam();
  expect_matches_serial(Options{threads, true, 5, Reduction::Buffers}, batch);
}

TEST_P(GradientMatchesSerial, AtomicAndCriticalReductions) {
  const auto [threads, batch] = GetParam();
  for (Reduction r : {Reduction::Atomic, Reduction::Critical}) {
    SCOPED_TRACE(r == Reduction::Atomic ? "atomic" : "critical");
    expect_matches_serial(Options{threads, false, 8, r}, batch);
  }
}

TEST_P(GradientMatchesSerial, OwnerComputesNoBuffers) {
  // Each thread's rows of every dW over the whole batch: the weighting happens in delta_L.
  const auto [threads, batch] = GetParam();
  expect_matches_serial(Options{threads, false, 8, Reduction::Owner}, batch);
}

// Threads 1..8 and batches of 1 (more threads than samples), 7 (uneven), 128, 250 (uneven).
INSTANTIATE_TEST_SUITE_P(ThreadsAndBatches, GradientMatchesSerial,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::Values(1, 7, 128, 250)),
                         [](const auto& param_info) {
                           return "threads" + std::to_string(std::get<0>(param_info.param)) + "_batch" +
                                  std::to_string(std::get<1>(param_info.param));
                         });

TEST(FastMode, OneThreadIsChapter01BitForBit) {
  // One shard of weight 1 is chapter 01's computation; the buffer it lands in (64-byte aligned
  // here, wherever malloc put it there) must not change a bit.
  // The same for owner: one thread owns every row, and its weight w = 1 scales nothing.
  Problem p{250};
  const auto [loss_ref, g_ref] = p.serial();
  for (Reduction r : {Reduction::Buffers, Reduction::Owner}) {
    SCOPED_TRACE(r == Reduction::Owner ? "owner" : "buffers");
    DataParallel dp(p.layout, Options{1, false, 8, r});
    std::vector<float> g(p.layout.size());
    EXPECT_EQ(dp.gradient(p.params, p.data.x, p.data.y, g, nullptr), loss_ref);
    EXPECT_EQ(g, g_ref);
  }
}

// Three steps with the update split among the threads give the same bits as three serial updates
// of the gradients this DataParallel computes, for SGD and Adam.
void expect_parallel_update_equals_serial(const Options& options) {
  for (const char* name : {"sgd", "adam"}) {
    Problem p{128};
    std::vector<float> serial_params = p.params, g(p.layout.size());
    auto serial_opt = make_optimizer(name, p.params.size(), 0.01, 0.9);
    auto parallel_opt = make_optimizer(name, p.params.size(), 0.01, 0.9);
    DataParallel dp(p.layout, options);
    for (int s = 0; s < 3; ++s) {
      dp.gradient(serial_params, p.data.x, p.data.y, g, nullptr);
      serial_opt->step(serial_params, g);
      dp.step(p.params, p.data.x, p.data.y, g, parallel_opt.get(), nullptr);
    }
    EXPECT_EQ(p.params, serial_params) << name;
  }
}

TEST(DataParallel, ParallelUpdateEqualsSerialUpdateBitForBit) {
  expect_parallel_update_equals_serial(Options{3, true, 4, Reduction::Buffers});
}

TEST(DataParallel, EqualWeightsWouldBeWrongForUnevenShards) {
  // Why w_k = n_k / n: averaging the shard means with 1/K over-weights the small shards.
  Problem p(7);
  const auto [loss_ref, g_ref] = p.serial();
  const std::vector<Range> shards{{0, 3}, {3, 5}, {5, 7}};
  std::vector<float> naive(p.layout.size(), 0.0f), gk(p.layout.size());
  for (const Range& s : shards) {
    Workspace ws;
    const auto rows = p.data.x.middleRows(Eigen::Index(s.begin), Eigen::Index(s.size()));
    mlp_forward(p.layout, p.params, rows, ws);
    mlp_backward(p.layout, p.params, std::span(p.data.y).subspan(s.begin, s.size()), ws, gk);
    for (std::size_t i = 0; i < gk.size(); ++i) naive[i] += gk[i] / 3.0f;
  }
  // relative_error is +infinity on NaN, Inf or a size mismatch: a difference only counts if finite.
  const double e = relative_error(naive, g_ref);
  EXPECT_TRUE(std::isfinite(e)) << "NaN, Inf or a size mismatch, not a measured difference";
  EXPECT_GT(e, 1e-2) << "equal weights happened to be right here";
}

TEST(Owner, MoreThreadsThanRowsOrSamples) {
  // 12 threads: the 10-row last layer leaves two threads without rows, the 3-sample batch
  // leaves nine without a shard. Neither may write anything or wait forever.
  Problem p{3};
  const auto [loss_ref, g_ref] = p.serial();
  DataParallel dp(p.layout, Options{12, false, 8, Reduction::Owner});
  std::vector<float> g(p.layout.size(), std::nanf(""));
  EXPECT_NEAR(dp.gradient(p.params, p.data.x, p.data.y, g, nullptr), loss_ref, 1e-5 * std::abs(loss_ref));
  EXPECT_LT(relative_error(g, g_ref), 1e-5);
}

TEST(Owner, ParallelUpdateEqualsSerialUpdateOfItsGradientBitForBit) {
  expect_parallel_update_equals_serial(Options{3, false, 8, Reduction::Owner});
}

TEST(Owner, HasNoFixedOrderSoCannotBeDeterministic) {
  ParamLayout layout({4, 3, 2});
  EXPECT_ANY_THROW(DataParallel(layout, Options{2, true, 4, Reduction::Owner}));
}

// Trains `epochs` epochs of a small synthetic set and returns the parameter checksum.
std::string train_checksum(const Options& opt, int epochs) {
  const Dataset data = make_synthetic(499, 32, 5, 8);  // 499: the last batch of 50 is partial
  ParamLayout layout({32, 24, 16, 5});
  std::vector<float> params(layout.size()), grads(layout.size());
  he_init(layout, params, 9);
  Sgd sgd(params.size(), 0.05f, 0.9f);
  DataParallel dp(layout, opt);
  BatchSampler sampler(499, 50, 4);
  Matrix x;
  std::vector<std::uint8_t> y;
  for (int e = 1; e <= epochs; ++e) {
    sampler.start_epoch(std::uint64_t(e));
    for (std::size_t b = 0; b < sampler.num_batches(); ++b) {
      gather(data, sampler.batch(b), x, y);
      dp.step(params, x, y, grads, &sgd, nullptr);
    }
  }
  return param_checksum(params);
}

TEST(Deterministic, SameChecksumForAnyThreadCountAndRun) {
  const std::string reference = train_checksum(Options{1, true, 6, Reduction::Buffers}, 2);
  for (int threads : {1, 2, 3, 4, 7})
    EXPECT_EQ(train_checksum(Options{threads, true, 6, Reduction::Buffers}, 2), reference)
        << threads << " threads";
}

TEST(FastMode, SameChecksumForTheSameThreadCount) {
  for (Reduction r : {Reduction::Buffers, Reduction::Owner})
    EXPECT_EQ(train_checksum(Options{3, false, 8, r}, 2), train_checksum(Options{3, false, 8, r}, 2));
}

}  // namespace
}  // namespace ptt::ch02
