// Chapter 07: the splits hold every sample exactly once, reproducibly by seed, and give the class
// mixes they promise (stratified: per class within one; by-class: every class held, K or K+1 per
// rank; Dirichlet: skewed for small alpha).
#include "ch07/splits.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "ch07/stratified_split.hpp"
#include "ptt/data.hpp"
#include "split_names.hpp"

namespace ptt::ch07 {
namespace {

constexpr int kClasses = 10;

// Labels with uneven class sizes (1003 samples): make_synthetic draws classes at random.
std::vector<std::uint8_t> labels(std::size_t n = 1003, std::uint64_t seed = 5) {
  return make_synthetic(n, 4, kClasses, seed).y;
}

// counts[k][c]: samples of class c on rank k.
std::vector<std::vector<std::size_t>> class_counts(const Shards& shards, std::span<const std::uint8_t> y) {
  std::vector<std::vector<std::size_t>> counts(shards.size(), std::vector<std::size_t>(kClasses));
  for (std::size_t k = 0; k < shards.size(); ++k)
    for (std::uint32_t i : shards[k]) ++counts[k][y[i]];
  return counts;
}

// Every index 0..n-1 exactly once (owners() throws on a repeat, a gap or an out-of-range index),
// and each shard ascending, as contracts/ch07/stratified_split.hpp promises.
void expect_every_sample_once(const Shards& shards, std::size_t n, const std::string& what) {
  std::size_t total = 0;
  for (const auto& s : shards) total += s.size();
  EXPECT_EQ(total, n) << what;
  EXPECT_NO_THROW(owners(shards, n)) << what;
  for (std::size_t k = 0; k < shards.size(); ++k)
    EXPECT_TRUE(std::is_sorted(shards[k].begin(), shards[k].end()))
        << what << ": shard " << k << " is not ascending";
}

TEST(StratifiedSplit, EverySampleOnce) {
  const auto y = labels();
  for (int ranks : {1, 2, 3, 4, 7}) {
    const Shards s = stratified_split(y, kClasses, ranks, 1);
    ASSERT_EQ(s.size(), std::size_t(ranks));
    expect_every_sample_once(s, y.size(), "ranks " + std::to_string(ranks));
  }
}

TEST(StratifiedSplit, PerClassCountsDifferByAtMostOne) {
  const auto y = labels();
  std::vector<std::size_t> per_class(kClasses);
  for (auto c : y) ++per_class[c];
  for (int ranks : {2, 3, 4, 7}) {
    const Shards s = stratified_split(y, kClasses, ranks, 3);
    const auto counts = class_counts(s, y);
    std::size_t smallest = y.size(), largest = 0;
    for (int c = 0; c < kClasses; ++c) {
      std::size_t lo = y.size(), hi = 0, sum = 0;
      for (const auto& rank : counts) {
        lo = std::min(lo, rank[std::size_t(c)]);
        hi = std::max(hi, rank[std::size_t(c)]);
        sum += rank[std::size_t(c)];
      }
      EXPECT_EQ(sum, per_class[std::size_t(c)]) << "class " << c << " on " << ranks << " ranks";
      EXPECT_LE(hi - lo, 1u) << "class " << c << " on " << ranks << " ranks";
    }
    for (const auto& shard : s) {
      smallest = std::min(smallest, shard.size());
      largest = std::max(largest, shard.size());
    }
    EXPECT_LE(largest - smallest, 1u) << "shard sizes on " << ranks << " ranks";
  }
}

TEST(StratifiedSplit, ReproducibleBySeed) {
  const auto y = labels();
  const Shards a = stratified_split(y, kClasses, 4, 7);
  const Shards b = stratified_split(y, kClasses, 4, 7);
  const Shards c = stratified_split(y, kClasses, 4, 8);
  expect_every_sample_once(a, y.size(), "seed 7");
  EXPECT_EQ(a, b) << "the same seed must give the same split";
  EXPECT_NE(a, c) << "another seed must give another split";
}

class EverySplit : public ::testing::TestWithParam<SplitKind> {};

TEST_P(EverySplit, EverySampleOnceAndReproducible) {
  const auto y = labels();
  SplitOptions o;
  o.kind = GetParam();
  o.alpha = 0.3;
  for (int ranks : {1, 2, 3, 4, 5}) {
    const Shards a = make_split(o, y, kClasses, ranks, 21);
    ASSERT_EQ(a.size(), std::size_t(ranks));
    expect_every_sample_once(a, y.size(), "ranks " + std::to_string(ranks));
    EXPECT_EQ(a, make_split(o, y, kClasses, ranks, 21)) << "ranks " << ranks;
    if (ranks > 1) {
      EXPECT_NE(a, make_split(o, y, kClasses, ranks, 22)) << "ranks " << ranks;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Splits, EverySplit,
                         ::testing::Values(SplitKind::Random, SplitKind::ByClass, SplitKind::Dirichlet,
                                           SplitKind::Stratified),
                         [](const auto& param_info) {
                           return ptt::ch07::testing::split_test_name(param_info.param);
                         });

TEST(ByClassSplit, EveryClassHeldAndKOrKPlusOnePerRank) {
  const auto y = labels();
  for (int ranks : {1, 2, 3, 4, 5, 7}) {
    for (int k : {1, 2, 3}) {
      const Shards s = by_class_split(y, kClasses, ranks, k, 2);
      const auto counts = class_counts(s, y);
      const int k_eff = std::max(k, kClasses / ranks);
      std::vector<int> holders(kClasses);
      for (const auto& rank : counts) {
        int held = 0;
        for (int c = 0; c < kClasses; ++c)
          if (rank[std::size_t(c)] > 0) ++held, ++holders[std::size_t(c)];
        EXPECT_TRUE(held == k_eff || held == k_eff + 1)
            << held << " classes on a rank, ranks " << ranks << " K " << k;
      }
      for (int c = 0; c < kClasses; ++c) EXPECT_GE(holders[std::size_t(c)], 1) << "class " << c << " unheld";
    }
  }
  // 5 ranks, 2 classes each: exactly 2 classes per rank, each class on exactly one rank.
  const auto counts = class_counts(by_class_split(y, kClasses, 5, 2, 2), y);
  for (const auto& rank : counts)
    EXPECT_EQ(std::count_if(rank.begin(), rank.end(), [](auto n) { return n > 0; }), 2);
}

TEST(DirichletSplit, SmallAlphaIsSkewedLargeAlphaIsNot) {
  const auto y = labels(20000, 9);
  // The largest share one rank holds of a class, averaged over classes: 1/R for IID, near 1 for skew.
  auto mean_max_share = [&](double alpha) {
    const auto counts = class_counts(dirichlet_split(y, kClasses, 4, alpha, 1), y);
    double sum = 0.0;
    for (int c = 0; c < kClasses; ++c) {
      std::size_t hi = 0, total = 0;
      for (const auto& rank : counts) hi = std::max(hi, rank[std::size_t(c)]), total += rank[std::size_t(c)];
      sum += double(hi) / double(total);
    }
    return sum / kClasses;
  };
  EXPECT_GT(mean_max_share(0.05), 0.8);
  EXPECT_LT(mean_max_share(1000.0), 0.3);
}

TEST(Owners, RejectsARepeatedOrMissingSample) {
  EXPECT_NO_THROW(owners({{0, 2}, {1}}, 3));
  EXPECT_THROW(owners({{0, 1}, {1, 2}}, 3), std::runtime_error);  // 1 twice
  EXPECT_THROW(owners({{0}, {2}}, 3), std::runtime_error);        // 1 missing
  EXPECT_THROW(owners({{0, 1, 3}, {2}}, 3), std::runtime_error);  // 3 out of range
}

}  // namespace
}  // namespace ptt::ch07
