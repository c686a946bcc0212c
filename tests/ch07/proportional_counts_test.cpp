// Chapter 07, TODO(07.3): a global batch dealt to ranks of different speeds, by largest remainders.
//   - hand-computed deals (ties to the lower rank, a rank of weight 0, the README's straggler);
//   - on 2000 random whole-number weight vectors (zeros included, 1 to 8 ranks, 0 to 300 samples)
//     the counts equal an independent reference in exact integer arithmetic;
//   - for any weights the counts sum to n, each within one of its exact share.
#include "ch07/proportional_counts.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace ptt::ch07 {
namespace {

using Counts = std::vector<std::size_t>;

Counts deal(std::size_t n, std::vector<double> w) { return proportional_counts(n, w); }

TEST(ProportionalCounts, HandComputedDeals) {
  EXPECT_EQ(deal(128, {1, 0, 2, 1}), (Counts{32, 0, 64, 32}));  // exact shares
  EXPECT_EQ(deal(16, {3, 1}), (Counts{12, 4}));                 // 2 ranks, rank 1 three times slower
  // 10 in three equal parts: 3 + 3 + 3, the one left over to the lowest rank of the tie.
  EXPECT_EQ(deal(10, {1, 1, 1}), (Counts{4, 3, 3}));
  // 6 in four: 1.5 each; two left over after the floors go to ranks 0 and 1 (rounding each share
  // to the nearest would give 2 + 2 + 2 + 2 = 8).
  EXPECT_EQ(deal(6, {1, 1, 1, 1}), (Counts{2, 2, 1, 1}));
  // 5 in 1 : 3 is 1.25 + 3.75: the one left over goes to the LARGER remainder (rank 1), not to
  // rank 0 first.
  EXPECT_EQ(deal(5, {1, 3}), (Counts{1, 4}));
  // 3 in 1 : 1 : 5 is 0.43 + 0.43 + 2.14: the larger remainders are ranks 0 and 1 (a tie, the
  // lower rank wins), not the heaviest rank 2.
  EXPECT_EQ(deal(3, {1, 1, 5}), (Counts{1, 0, 2}));
  // 10 in 1 : 3 is 2.5 + 7.5: equal remainders with different whole parts, the lower rank wins.
  EXPECT_EQ(deal(10, {1, 3}), (Counts{3, 7}));
  // A zero weight gets nothing; one rank with all the weight gets everything.
  EXPECT_EQ(deal(7, {0, 2, 0}), (Counts{0, 7, 0}));
  EXPECT_EQ(deal(0, {1, 2, 3}), (Counts{0, 0, 0}));
  // Speeds are not whole numbers: 16 samples at 310.5, 99.25 and 205.0 samples/s.
  EXPECT_EQ(deal(16, {310.5, 99.25, 205.0}), (Counts{8, 3, 5}));
}

// The rule in whole numbers: floor(n w_k / W) each, then the leftovers one at a time to the largest
// remainder n w_k mod W still unserved, the lower rank on a tie.
Counts reference(std::size_t n, const std::vector<std::uint64_t>& w) {
  const std::uint64_t W = std::accumulate(w.begin(), w.end(), std::uint64_t{0});
  Counts c(w.size());
  std::vector<std::uint64_t> rem(w.size());
  std::size_t given = 0;
  for (std::size_t k = 0; k < w.size(); ++k) {
    c[k] = std::size_t(n * w[k] / W);
    rem[k] = n * w[k] % W;
    given += c[k];
  }
  std::vector<bool> served(w.size(), false);
  for (; given < n; ++given) {
    std::size_t best = w.size();
    for (std::size_t k = 0; k < w.size(); ++k)
      if (!served[k] && (best == w.size() || rem[k] > rem[best])) best = k;
    served[best] = true;
    ++c[best];
  }
  return c;
}

TEST(ProportionalCounts, EqualsWholeNumberLargestRemainderOnRandomWeights) {
  std::mt19937_64 rng(2026);
  int compared = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const auto ranks = std::size_t(1 + rng() % 8);
    std::vector<std::uint64_t> w(ranks);
    for (auto& x : w) x = rng() % 4 == 0 ? 0 : 1 + rng() % 12;  // a quarter of the ranks weigh 0
    if (std::accumulate(w.begin(), w.end(), std::uint64_t{0}) == 0) w[0] = 1;
    const auto n = std::size_t(rng() % 301);
    const std::vector<double> wd(w.begin(), w.end());
    ASSERT_EQ(proportional_counts(n, wd), reference(n, w)) << "trial " << trial << " n " << n;
    ++compared;
  }
  EXPECT_EQ(compared, 2000);
}

TEST(ProportionalCounts, SumToTheBatchAndFollowTheWeights) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> speed(0.0, 500.0);
  for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(3), std::size_t(127), std::size_t(1000)})
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<double> v(std::size_t(1 + trial % 6));
      for (double& x : v) x = speed(rng);
      v[std::size_t(trial) % v.size()] = 0.0;  // one rank has stopped
      if (v.size() == 1) v[0] = 1e-9;          // a very slow lone rank still takes everything
      const double W = std::accumulate(v.begin(), v.end(), 0.0);
      const Counts got = proportional_counts(n, v);
      ASSERT_EQ(got.size(), v.size());
      EXPECT_EQ(std::accumulate(got.begin(), got.end(), std::size_t(0)), n) << "n " << n;
      for (std::size_t k = 0; k < v.size(); ++k) {
        if (v[k] == 0.0) {
          EXPECT_EQ(got[k], 0u) << "a zero weight gets nothing";
        }
        EXPECT_LT(std::abs(double(got[k]) - double(n) * v[k] / W), 1.0) << "n " << n << " rank " << k;
      }
    }
}

TEST(ProportionalCountsInput, RefusesNegativeNonFiniteOrAllZeroWeights) {
  EXPECT_THROW(proportional_counts(5, std::vector<double>{0.0, 0.0}), std::logic_error);
  EXPECT_THROW(proportional_counts(5, std::vector<double>{1.0, -1.0}), std::logic_error);
  EXPECT_THROW(proportional_counts(5, std::vector<double>{1.0, std::nan("")}), std::logic_error);
}

}  // namespace
}  // namespace ptt::ch07
