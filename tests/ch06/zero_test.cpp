// Chapter 06, TODO(06.2): a ZeRO-1 step equals plain data parallelism (all-reduce, then the full
// update on every rank), over the whole world as the dp group, for SGD and Adam, on buffers that
// do not divide evenly between the ranks.
#include "ch06/zero.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <vector>

#include "grids.hpp"
#include "test_util.hpp"

namespace ptt::ch06 {
namespace {

using ptt::test::relative_error;
using testing::world_rank;
using testing::world_size;

// Rank r's gradient contribution at step s: different on every rank, every step and every index.
std::vector<float> contribution(std::size_t n, int rank, int step) {
  std::vector<float> g(n);
  for (std::size_t i = 0; i < n; ++i)
    g[i] =
        0.01f * std::sin(0.37f * float(i) + 1.3f * float(rank) + 0.7f * float(step)) + 0.001f * float(rank);
  return g;
}

struct Trained {
  std::vector<float> params;
  std::vector<float> state;  // this rank's optimizer state
};

Trained plain(std::size_t n, const std::string& opt, int steps) {
  Trained t{std::vector<float>(n), {}};
  for (std::size_t i = 0; i < n; ++i) t.params[i] = 0.5f - 0.001f * float(i);
  auto optimizer = make_optimizer(opt, n, 0.05, 0.9);
  for (int s = 0; s < steps; ++s) {
    std::vector<float> g = contribution(n, world_rank(), s);
    MPI_Allreduce(MPI_IN_PLACE, g.data(), int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    optimizer->step(t.params, g);
  }
  const auto st = optimizer->state();
  t.state.assign(st.begin(), st.end());
  return t;
}

Trained zero1(std::size_t n, const std::string& opt, int steps) {
  Trained t{std::vector<float>(n), {}};
  for (std::size_t i = 0; i < n; ++i) t.params[i] = 0.5f - 0.001f * float(i);
  const Range mine = zero_shard(n, world_rank(), world_size());
  auto optimizer = make_optimizer(opt, mine.size(), 0.05, 0.9);
  std::vector<float> shard_grads(mine.size());
  for (int s = 0; s < steps; ++s) {
    std::vector<float> g = contribution(n, world_rank(), s);
    zero1_step(t.params, g, shard_grads, *optimizer, MPI_COMM_WORLD);
  }
  const auto st = optimizer->state();
  t.state.assign(st.begin(), st.end());
  return t;
}

class Zero1 : public ::testing::TestWithParam<const char*> {};

TEST_P(Zero1, EqualsPlainDataParallelismOnUnevenShards) {
  for (std::size_t n : {std::size_t(1), std::size_t(7), std::size_t(1003)}) {
    const Trained want = plain(n, GetParam(), 4);
    const Trained got = zero1(n, GetParam(), 4);
    // MPI_Reduce_scatter may add the contributions in another order than MPI_Allreduce: 1e-6.
    EXPECT_LT(relative_error(got.params, want.params), 1e-6) << "n = " << n;
    int differ = relative_error(got.params, want.params) < 1e-6 ? 0 : 1;
    MPI_Allreduce(MPI_IN_PLACE, &differ, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    EXPECT_EQ(differ, 0) << "some rank's parameters differ from plain data parallelism, n = " << n;
  }
}

TEST_P(Zero1, EachRankKeepsTheStateOfItsShardOnly) {
  const std::size_t n = 1003;
  const Trained want = plain(n, GetParam(), 3);
  const Trained got = zero1(n, GetParam(), 3);
  const Range mine = zero_shard(n, world_rank(), world_size());
  const std::size_t k = want.state.size() / n;  // 1 (SGD) or 2 (Adam)
  ASSERT_EQ(got.state.size(), k * mine.size());
  // My shard's state equals the same part of plain data parallelism's full state.
  std::vector<float> part;
  for (std::size_t a = 0; a < k; ++a)
    part.insert(part.end(), want.state.begin() + std::ptrdiff_t(a * n + mine.begin),
                want.state.begin() + std::ptrdiff_t(a * n + mine.end));
  EXPECT_LT(relative_error(got.state, part), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Optimizers, Zero1, ::testing::Values("sgd", "adam"),
                         [](const auto& param_info) { return std::string(param_info.param); });

}  // namespace
}  // namespace ptt::ch06
