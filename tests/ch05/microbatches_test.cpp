// Chapter 05, TODO(05.3): the micro-batches of a mini-batch and the weights of their gradients.
//   - hand-computed cuts and weights (the larger micro-batches first, n_j / B each);
//   - for B in {1, 5, 7, 128} and m in {1, 2, 3, 4, 8, 16}: the micro-batches cover every row
//     once, in order, sizes within one of each other, the weights sum to 1, an empty micro-batch
//     weighs exactly 0;
//   - the weighted SUM of the micro-batches' mean-loss gradients equals the gradient of the mean
//     loss over the whole batch (relative error 1e-5, which allows only for the different
//     summation order; NaN or Inf anywhere fails).
#include "ch05/microbatches.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ptt/mlp.hpp"
#include "test_util.hpp"

namespace ptt::ch05 {
namespace {

struct Want {
  std::size_t begin, end;
  double weight;
};

void expect_cut(std::size_t rows, int micro, const std::vector<Want>& want) {
  const std::vector<MicroBatch> got = split_microbatches(rows, micro);
  ASSERT_EQ(got.size(), want.size()) << "B=" << rows << " m=" << micro;
  for (std::size_t j = 0; j < want.size(); ++j) {
    const std::string where =
        "B=" + std::to_string(rows) + " m=" + std::to_string(micro) + " j=" + std::to_string(j);
    EXPECT_EQ(got[j].begin, want[j].begin) << where;
    EXPECT_EQ(got[j].end, want[j].end) << where;
    EXPECT_DOUBLE_EQ(got[j].weight, want[j].weight) << where;  // fails on NaN
  }
}

TEST(MicroBatches, HandComputedCutsAndWeights) {
  expect_cut(1, 1, {{0, 1, 1.0}});
  expect_cut(128, 4, {{0, 32, 0.25}, {32, 64, 0.25}, {64, 96, 0.25}, {96, 128, 0.25}});
  // 7 rows in 3: 7 = 3 + 2 + 2, the larger first; weights 3/7, 2/7, 2/7 (not 1/3 each).
  expect_cut(7, 3, {{0, 3, 3.0 / 7}, {3, 5, 2.0 / 7}, {5, 7, 2.0 / 7}});
  // 10 rows in 4: 3 + 3 + 2 + 2.
  expect_cut(10, 4, {{0, 3, 0.3}, {3, 6, 0.3}, {6, 8, 0.2}, {8, 10, 0.2}});
  // 24 rows in 7 (the pipeline tests' case): 4 + 4 + 4 + 3 + 3 + 3 + 3.
  expect_cut(24, 7,
             {{0, 4, 4.0 / 24},
              {4, 8, 4.0 / 24},
              {8, 12, 4.0 / 24},
              {12, 15, 3.0 / 24},
              {15, 18, 3.0 / 24},
              {18, 21, 3.0 / 24},
              {21, 24, 3.0 / 24}});
  // More micro-batches than rows: one row each, then empty ones at the end that weigh nothing.
  expect_cut(5, 8,
             {{0, 1, 0.2},
              {1, 2, 0.2},
              {2, 3, 0.2},
              {3, 4, 0.2},
              {4, 5, 0.2},
              {5, 5, 0.0},
              {5, 5, 0.0},
              {5, 5, 0.0}});
  expect_cut(1, 3, {{0, 1, 1.0}, {1, 1, 0.0}, {1, 1, 0.0}});
}

class MicroBatchSweep : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(MicroBatchSweep, CoverEveryRowOnceLargerFirstWeightsSumToOne) {
  const auto [B, m] = GetParam();
  const auto rows = static_cast<std::size_t>(B);
  const std::vector<MicroBatch> mbs = split_microbatches(rows, m);
  ASSERT_EQ(mbs.size(), static_cast<std::size_t>(m));
  std::size_t next = 0;
  double sum = 0.0;
  for (std::size_t j = 0; j < mbs.size(); ++j) {
    const MicroBatch& mb = mbs[j];
    EXPECT_EQ(mb.begin, next) << "micro-batch " << j << " does not start where the one before it ends";
    ASSERT_LE(mb.begin, mb.end) << "micro-batch " << j;
    next = mb.end;
    // Sizes floor(B/m) or one more, never growing along the list (the larger ones first).
    EXPECT_GE(mb.size(), rows / std::size_t(m)) << "micro-batch " << j;
    EXPECT_LE(mb.size(), rows / std::size_t(m) + 1) << "micro-batch " << j;
    if (j > 0) {
      EXPECT_LE(mb.size(), mbs[j - 1].size()) << "micro-batch " << j << " is larger than the one before";
    }
    EXPECT_TRUE(std::isfinite(mb.weight)) << "micro-batch " << j << " weight " << mb.weight;
    if (mb.size() == 0) {
      EXPECT_EQ(mb.weight, 0.0) << "an empty micro-batch " << j << " must weigh nothing";
    }
    sum += mb.weight;
  }
  EXPECT_EQ(next, rows) << "the micro-batches do not end at the last row";
  EXPECT_LT(std::abs(sum - 1.0), 1e-12) << "the weights sum to " << sum;  // NaN fails
}

TEST_P(MicroBatchSweep, WeightedGradientsSumToTheWholeBatchGradient) {
  const auto [B, m] = GetParam();
  const ParamLayout layout({6, 5, 4});
  std::vector<float> params(layout.size());
  he_init(layout, params, 11);
  const Matrix X = test::random_matrix(B, 6, 500 + std::uint64_t(B));
  std::vector<std::uint8_t> y(static_cast<std::size_t>(B));
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::uint8_t>((i * 3 + 1) % 4);

  // Chapter 01: the gradient of the mean loss over all B rows.
  Workspace ws;
  std::vector<float> want(layout.size());
  mlp_forward(layout, params, X, ws);
  mlp_backward(layout, params, y, ws, want);

  // The pipeline's way: each micro-batch's mean-loss gradient, weighted, added up.
  std::vector<float> got(layout.size(), 0.0f), g(layout.size());
  for (const MicroBatch& mb : split_microbatches(static_cast<std::size_t>(B), m)) {
    ASSERT_LE(mb.begin, mb.end);
    ASSERT_LE(mb.end, static_cast<std::size_t>(B)) << "a micro-batch reaches past the batch";
    if (mb.size() == 0) {
      std::fill(g.begin(), g.end(), 0.0f);  // no rows: a zero gradient, whatever it is weighted by
    } else {
      const auto n = static_cast<Eigen::Index>(mb.size());
      mlp_forward(layout, params, X.middleRows(static_cast<Eigen::Index>(mb.begin), n), ws);
      mlp_backward(layout, params, std::span<const std::uint8_t>(y).subspan(mb.begin, mb.size()), ws, g);
    }
    for (std::size_t i = 0; i < g.size(); ++i) got[i] += static_cast<float>(mb.weight) * g[i];
  }
  EXPECT_LT(test::relative_error(got, want), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(RowsAndMicroBatches, MicroBatchSweep,
                         ::testing::Combine(::testing::Values(1, 5, 7, 128),
                                            ::testing::Values(1, 2, 3, 4, 8, 16)),
                         [](const auto& param_info) {
                           return "B" + std::to_string(std::get<0>(param_info.param)) + "_m" +
                                  std::to_string(std::get<1>(param_info.param));
                         });

TEST(SplitMicroBatches, RefusesNoRowsOrNoMicroBatches) {
  EXPECT_THROW(split_microbatches(0, 1), std::logic_error);
  EXPECT_THROW(split_microbatches(4, 0), std::logic_error);
}

}  // namespace
}  // namespace ptt::ch05
