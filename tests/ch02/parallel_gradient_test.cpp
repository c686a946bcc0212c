// Chapter 02, TODO(02.4): the padded gradient buffers, and the parallel region that fills and
// combines them (contracts/ch02/parallel_gradient.hpp). What the tests hold it to:
// - every buffer starts on its own cache line, padded by less than a line, and the buffers do not
//   overlap (false sharing);
// - on uneven shards, some empty, with 1 to 4 threads: chapter 01's gradient, loss and count, and
//   nothing read or written for an empty shard (its buffer holds NaN here, as garbage might);
// - the same bits for any number of threads (what the deterministic mode promises);
// - one region of exactly the requested threads, the hooks called where the contract says:
//   every chunk combined once, every thread at the end, after the whole combination.
// None of them depends on timing: a thread that writes another shard's buffer, or a missing
// region, is caught by values or by the team the hooks see, on every run.
#include "ch02/parallel_gradient.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "ptt/data.hpp"
#include "ptt/metrics.hpp"
#include "ptt/mlp.hpp"
#include "test_util.hpp"

namespace ptt::ch02 {
namespace {

using test::relative_error;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// --- part 1: the buffers ---------------------------------------------------------------------------

TEST(GradientBuffers, EachStartsOnItsOwnLineAndNoneOverlaps) {
  constexpr std::size_t kLine = GradientBuffers::kLineFloats;
  for (std::size_t count : {1u, 2u, 3u, 5u})
    for (std::size_t length : {0u, 1u, 15u, 16u, 17u, 1001u}) {
      SCOPED_TRACE(std::to_string(count) + " buffers of " + std::to_string(length) + " floats");
      GradientBuffers g(count, length);
      EXPECT_EQ(g.count(), count);
      EXPECT_EQ(g.length(), length);
      EXPECT_EQ(g.stride() % kLine, 0u) << "the stride is not a whole number of 64-byte lines";
      EXPECT_GE(g.stride(), length) << "the buffers overlap";
      EXPECT_LT(g.stride(), length + kLine) << "padded by more than the rest of one line";
      for (std::size_t k = 0; k < count; ++k) {
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(g[k].data()) % 64, 0u) << "buffer " << k;
        EXPECT_EQ(g[k].size(), length);
      }
      // Each buffer keeps what was written to it: no buffer overlaps its neighbour.
      for (std::size_t k = 0; k < count; ++k) std::fill(g[k].begin(), g[k].end(), float(k + 1));
      for (std::size_t k = 0; k < count; ++k)
        EXPECT_TRUE(std::all_of(g[k].begin(), g[k].end(), [k](float v) { return v == float(k + 1); }))
            << "buffer " << k << " was overwritten by its neighbour";
    }
}

// --- part 2: the region ----------------------------------------------------------------------------

// 64-96-40-10: 10,530 parameters, so three chunks of kCombineChunk, the last one shorter; with
// 4 threads one thread combines nothing.
struct Net {
  ParamLayout layout{{64, 96, 40, 10}};
  std::vector<float> params = std::vector<float>(layout.size());
  Dataset data;
  explicit Net(std::size_t batch) : data(make_synthetic(batch, 64, 10, 21)) { he_init(layout, params, 6); }
};

// Contiguous shards of the given sizes, in order: the shapes split_batch makes, written out so
// that these tests do not depend on TODO(02.1); and their weights n_k / n (TODO(02.2)'s).
struct Shards {
  std::vector<Range> ranges;
  std::vector<float> weights;
  std::size_t rows = 0;
  explicit Shards(const std::vector<std::size_t>& sizes) {
    for (std::size_t s : sizes) {
      ranges.push_back(Range{rows, rows + s});
      rows += s;
    }
    for (std::size_t s : sizes) weights.push_back(static_cast<float>(s) / static_cast<float>(rows));
  }
};

// The shapes: uneven shards, with empty ones at the end (more shards than rows).
const std::vector<std::vector<std::size_t>> kShapes{
    {1, 1, 1, 0},           // 3 rows in 4 shards: one empty
    {3, 3, 3, 2},           // 11 rows in 4 shards
    {3, 3, 3, 2, 2},        // 13 rows in 5 shards (the deterministic mode's fixed K, T = 2..4)
    {1, 1, 1, 1, 1, 0, 0},  // 5 rows in 7 shards: two empty
};

std::string shape_name(const std::vector<std::size_t>& sizes) {
  std::string s;
  for (std::size_t n : sizes) {
    if (!s.empty()) s += '_';
    s += std::to_string(n);
  }
  return s;
}

struct RegionResult {
  std::vector<float> grads;
  std::vector<ShardStats> stats;
};

// One call of parallel_gradient on fresh memory: the buffers and the gradient full of NaN, the
// stats full of a sentinel, as garbage from an earlier step might be.
RegionResult run_region(const Net& net, const Shards& shards, int threads, RegionHooks& hooks) {
  const std::size_t K = shards.ranges.size();
  GradientBuffers buffers(K, net.layout.size());
  for (std::size_t k = 0; k < K; ++k) std::fill(buffers[k].begin(), buffers[k].end(), kNaN);
  std::vector<Workspace> workspaces(K);
  RegionResult run{std::vector<float>(net.layout.size(), kNaN),
                   std::vector<ShardStats>(K, ShardStats{kNaN, 12345})};
  parallel_gradient(net.layout, net.params,
                    ShardedBatch{net.data.x, net.data.y, shards.ranges, shards.weights},
                    ShardMemory{buffers, workspaces, run.stats}, run.grads, threads, hooks);
  return run;
}

RegionResult run_region(const Net& net, const Shards& shards, int threads) {
  RegionHooks none;
  return run_region(net, shards, threads, none);
}

class ParallelGradientMatchesChapter01
    : public ::testing::TestWithParam<std::tuple<int, std::vector<std::size_t>>> {};

TEST_P(ParallelGradientMatchesChapter01, GradientLossAndCountOnUnevenShards) {
  const auto& [threads, sizes] = GetParam();
  const Shards shards(sizes);
  const Net net(shards.rows);
  // Chapter 01: the whole batch at once.
  std::vector<float> g_ref(net.layout.size());
  Workspace ws;
  mlp_forward(net.layout, net.params, net.data.x, ws);
  const float loss_ref = mlp_backward(net.layout, net.params, net.data.y, ws, g_ref);
  const std::size_t correct_ref = count_correct(ws.logits(), net.data.y);

  const RegionResult run = run_region(net, shards, threads);
  EXPECT_LT(relative_error(run.grads, g_ref), 1e-5) << "not the batch's mean gradient (NaN: a buffer "
                                                       "never written, or an empty shard's read)";
  double loss = 0.0;
  std::size_t correct = 0;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    const ShardStats& s = run.stats[k];
    if (sizes[k] == 0) {  // an empty shard's slot is not touched
      EXPECT_TRUE(std::isnan(s.loss) && s.correct == 12345u)
          << "empty shard " << k << "'s stats were written";
      continue;
    }
    loss += double(shards.weights[k]) * double(s.loss);
    correct += s.correct;
  }
  EXPECT_NEAR(loss, loss_ref, 1e-5 * std::abs(loss_ref)) << "sum_k w_k loss_k";
  EXPECT_EQ(correct, correct_ref);
}

INSTANTIATE_TEST_SUITE_P(ThreadsAndShapes, ParallelGradientMatchesChapter01,
                         ::testing::Combine(::testing::Values(1, 2, 3, 4), ::testing::ValuesIn(kShapes)),
                         [](const auto& param_info) {
                           return "threads" + std::to_string(std::get<0>(param_info.param)) + "_shards_" +
                                  shape_name(std::get<1>(param_info.param));
                         });

TEST(ParallelGradient, SameBitsForAnyThreadCount) {
  // The deterministic mode fixes the shards and promises the same param_checksum for any
  // --threads: for the same shards, every float of the gradient and of the stats is the same.
  for (const std::vector<std::size_t>& sizes : {kShapes[2], kShapes[3]}) {
    SCOPED_TRACE("shards " + shape_name(sizes));
    const Shards shards(sizes);
    const Net net(shards.rows);
    const RegionResult one = run_region(net, shards, 1);
    std::vector<float> g_ref(net.layout.size());
    Workspace ws;
    mlp_forward(net.layout, net.params, net.data.x, ws);
    mlp_backward(net.layout, net.params, net.data.y, ws, g_ref);
    ASSERT_LT(relative_error(one.grads, g_ref), 1e-5) << "one thread does not give the batch's gradient";
    for (int threads : {2, 3, 4, 8}) {
      const RegionResult many = run_region(net, shards, threads);
      std::size_t differ = 0;
      for (std::size_t i = 0; i < one.grads.size(); ++i)
        differ += std::memcmp(&one.grads[i], &many.grads[i], sizeof(float)) != 0;
      EXPECT_EQ(differ, 0u) << "gradient elements whose bits differ between 1 and " << threads << " threads";
      for (std::size_t k = 0; k < sizes.size(); ++k) {
        if (sizes[k] == 0) continue;
        EXPECT_EQ(std::memcmp(&one.stats[k].loss, &many.stats[k].loss, sizeof(float)), 0)
            << "shard " << k << "'s loss, " << threads << " threads";
        EXPECT_EQ(one.stats[k].correct, many.stats[k].correct)
            << "shard " << k << ", " << threads << " threads";
      }
    }
  }
}

// Records which thread of which team calls each hook.
class RecordingHooks final : public RegionHooks {
 public:
  struct Call {
    int thread, team, level;
    std::size_t begin = 0, end = 0;  // combined(): the chunk
    Phase phase = Phase::Data;       // phase_done(): the phase
    std::size_t chunks_before = 0;   // region_end(): how many chunks were combined by then
  };
  void phase_done(Phase phase) override {
    Call c = here();
    c.phase = phase;
    const std::lock_guard<std::mutex> lock(mutex_);
    phases.push_back(c);
  }
  void combined(std::size_t begin, std::size_t end) override {
    Call c = here();
    c.begin = begin;
    c.end = end;
    const std::lock_guard<std::mutex> lock(mutex_);
    chunks.push_back(c);
  }
  void region_end() override {
    Call c = here();
    const std::lock_guard<std::mutex> lock(mutex_);
    c.chunks_before = chunks.size();
    ends.push_back(c);
  }
  std::vector<Call> phases, chunks, ends;

 private:
  static Call here() { return Call{omp_get_thread_num(), omp_get_num_threads(), omp_get_level()}; }
  std::mutex mutex_;
};

TEST(ParallelGradient, OneRegionOfTheRequestedThreadsCallsTheHooksAsPromised) {
  const Shards shards(kShapes[1]);
  const Net net(shards.rows);
  const std::size_t P = net.layout.size();
  const std::size_t chunks = (P + kCombineChunk - 1) / kCombineChunk;
  ASSERT_EQ(chunks, 3u);
  for (int threads : {1, 2, 3, 4}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    RecordingHooks hooks;
    run_region(net, shards, threads, hooks);
    // region_end(): once by every thread of one team of `threads`, inside the region, after the
    // whole combination.
    ASSERT_EQ(hooks.ends.size(), std::size_t(threads)) << "region_end() must be called once by every thread";
    std::set<int> ids;
    for (const auto& c : hooks.ends) {
      ids.insert(c.thread);
      EXPECT_EQ(c.team, threads) << "region_end() called from a team of " << c.team << " threads";
      EXPECT_EQ(c.level, 1)
          << "region_end() called outside the parallel region (level 0) or nested in another";
      EXPECT_EQ(c.chunks_before, chunks)
          << "thread " << c.thread << " ended before the combination was complete";
    }
    EXPECT_EQ(ids.size(), std::size_t(threads))
        << "some thread called region_end() twice, another not at all";
    // combined(): each fixed chunk exactly once, from inside the region.
    std::sort(hooks.chunks.begin(), hooks.chunks.end(),
              [](const auto& a, const auto& b) { return a.begin < b.begin; });
    ASSERT_EQ(hooks.chunks.size(), chunks) << "combined() must be called once per chunk";
    for (std::size_t c = 0; c < chunks; ++c) {
      EXPECT_EQ(hooks.chunks[c].begin, c * kCombineChunk);
      EXPECT_EQ(hooks.chunks[c].end, std::min(P, (c + 1) * kCombineChunk));
      EXPECT_EQ(hooks.chunks[c].team, threads)
          << "chunk " << c << " combined outside the team of " << threads;
      EXPECT_EQ(hooks.chunks[c].level, 1);
    }
    // phase_done(): Forward, Backward, Reduce, by thread 0 alone, inside the region.
    ASSERT_EQ(hooks.phases.size(), 3u) << "phase_done() must be called once per phase, by thread 0 only";
    const Phase expected[] = {Phase::Forward, Phase::Backward, Phase::Reduce};
    for (std::size_t p = 0; p < 3; ++p) {
      EXPECT_EQ(hooks.phases[p].phase, expected[p]) << "call " << p;
      EXPECT_EQ(hooks.phases[p].thread, 0);
      EXPECT_EQ(hooks.phases[p].team, threads);
    }
  }
}

}  // namespace
}  // namespace ptt::ch02
