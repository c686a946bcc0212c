// Chapter 05, TODO(05.2): the balanced cut of a pipeline's layers. Hand-computed cuts, and on many
// small random rows the largest part equals the best of ALL possible cuts (brute force).
#include "ch05/partition.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>
#include <vector>

#include "ch05/balanced_partition.hpp"
#include "ptt/error.hpp"

namespace ptt::ch05 {
namespace {

// The largest part's cost of the cut `b` of `costs`, or -1 if `b` is not a valid cut into
// `parts` non-empty contiguous runs covering every item.
double largest_part(const std::vector<double>& costs, const std::vector<int>& b, int parts) {
  if (b.size() != std::size_t(parts) + 1 || b.front() != 0 || b.back() != int(costs.size())) return -1;
  double worst = 0;
  for (int s = 0; s < parts; ++s) {
    if (b[std::size_t(s) + 1] <= b[std::size_t(s)]) return -1;  // empty or backwards
    worst = std::max(worst, std::accumulate(costs.begin() + b[std::size_t(s)],
                                            costs.begin() + b[std::size_t(s) + 1], 0.0));
  }
  return worst;
}

// The best largest part over every cut (choose parts-1 cut points among N-1 gaps).
double brute_force(const std::vector<double>& costs, int parts) {
  const int N = int(costs.size());
  double best = -1;
  std::vector<int> b(std::size_t(parts) + 1, 0);
  b.back() = N;
  std::function<void(int, int)> place = [&](int s, int from) {
    if (s == parts) {
      const double w = largest_part(costs, b, parts);
      if (w >= 0 && (best < 0 || w < best)) best = w;
      return;
    }
    for (int c = from; c <= N - (parts - s); ++c) {
      b[std::size_t(s)] = c;
      place(s + 1, c + 1);
    }
  };
  place(1, 1);
  return best;
}

TEST(BalancedPartition, HandComputedCuts) {
  // One heavy item first (784-256-128-10's multiply-adds): it gets a stage of its own.
  EXPECT_EQ(balanced_partition(std::vector<double>{200704, 32768, 1280}, 2), (std::vector<int>{0, 1, 3}));
  // Equal items: equal runs.
  EXPECT_EQ(balanced_partition(std::vector<double>{1, 1, 1, 1, 1, 1}, 3), (std::vector<int>{0, 2, 4, 6}));
  // The heavy item last: everything before it can share a stage.
  EXPECT_EQ(balanced_partition(std::vector<double>{1, 1, 1, 10}, 2), (std::vector<int>{0, 3, 4}));
  // One part holds everything; as many parts as items gives one each.
  EXPECT_EQ(balanced_partition(std::vector<double>{3, 1, 4}, 1), (std::vector<int>{0, 3}));
  EXPECT_EQ(balanced_partition(std::vector<double>{3, 1, 4}, 3), (std::vector<int>{0, 1, 2, 3}));
  // 5 | 4 3 | 2 1 2 ... the optimum 7 needs a look beyond the greedy fill.
  const std::vector<double> row{5, 4, 3, 2, 1, 2};
  EXPECT_EQ(largest_part(row, balanced_partition(row, 3), 3), 7.0);
}

TEST(BalancedPartition, EqualsTheBestOfEveryCutOnRandomRows) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> cost(0, 20), size(1, 8);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<double> costs(std::size_t(size(rng)));
    for (double& c : costs) c = cost(rng);
    for (int parts = 1; parts <= int(costs.size()); ++parts) {
      const std::vector<int> b = balanced_partition(costs, parts);
      const double got = largest_part(costs, b, parts);
      ASSERT_GE(got, 0) << "not a cut into " << parts << " non-empty runs (trial " << trial << ")";
      ASSERT_EQ(got, brute_force(costs, parts)) << "not the smallest largest part (trial " << trial << ")";
    }
  }
}

TEST(PartitionLayers, BalancesMultiplyAddsAndRefusesTooManyStages) {
  EXPECT_EQ(partition_layers(ParamLayout({784, 256, 128, 10}), 2), (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(partition_layers(ParamLayout({10, 10, 10, 10, 10}), 2), (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(partition_layers(ParamLayout({10, 10, 10, 10, 10}), 4), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_THROW(partition_layers(ParamLayout({784, 256, 128, 10}), 4), InputError);
}

}  // namespace
}  // namespace ptt::ch05
