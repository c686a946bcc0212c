// The comparison behind every "equals chapter 01" test: it must fail on NaN, infinities and size
// mismatches, give 0 on equal arrays (all-zero and empty ones included), and measure a true
// difference exactly. std::max(x, NaN) returns x, which is how a result full of NaN once passed.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "test_util.hpp"

namespace {

using ptt::test::max_or_nan;
using ptt::test::relative_error;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr double kTol = 1e-5;

bool is_pos_inf(double x) { return std::isinf(x) && x > 0; }

TEST(RelativeError, NaNInResultFails) {
  const std::vector<float> want{1.0f, 2.0f, 3.0f};
  for (std::size_t i = 0; i < want.size(); ++i) {  // first, middle, last: none may be skipped
    std::vector<float> got = want;
    got[i] = kNaN;
    const double e = relative_error(got, want);
    EXPECT_TRUE(is_pos_inf(e)) << "NaN at " << i << " gave " << e;
    EXPECT_FALSE(e < kTol);
  }
  const std::vector<float> all_nan(3, kNaN);
  EXPECT_TRUE(is_pos_inf(relative_error(all_nan, want)));
}

TEST(RelativeError, NaNInReferenceFails) {
  const std::vector<float> got{1.0f, 2.0f, 3.0f};
  for (std::size_t i = 0; i < got.size(); ++i) {
    std::vector<float> want = got;
    want[i] = kNaN;
    EXPECT_TRUE(is_pos_inf(relative_error(got, want))) << "NaN at " << i;
  }
  const std::vector<float> both(2, kNaN);
  EXPECT_TRUE(is_pos_inf(relative_error(both, both))) << "NaN equals nothing, not even NaN";
}

TEST(RelativeError, InfinitiesFail) {
  const std::vector<float> finite{1.0f, -2.0f};
  for (float inf : {kInf, -kInf}) {
    const std::vector<float> with_inf{1.0f, inf};
    EXPECT_TRUE(is_pos_inf(relative_error(with_inf, finite))) << inf << " in the result";
    EXPECT_TRUE(is_pos_inf(relative_error(finite, with_inf))) << inf << " in the reference";
    EXPECT_TRUE(is_pos_inf(relative_error(with_inf, with_inf))) << inf << " in both";
  }
}

TEST(RelativeError, SizeMismatchFails) {
  const std::vector<float> two{1.0f, 2.0f}, three{1.0f, 2.0f, 3.0f}, none;
  EXPECT_TRUE(is_pos_inf(relative_error(two, three))) << "shorter result";
  EXPECT_TRUE(is_pos_inf(relative_error(three, two))) << "longer result";
  EXPECT_TRUE(is_pos_inf(relative_error(none, two))) << "empty result";
  EXPECT_TRUE(is_pos_inf(relative_error(two, none))) << "empty reference";
}

TEST(RelativeError, AllZeroEqualArraysGiveZero) {
  const std::vector<float> zeros(5, 0.0f);
  EXPECT_EQ(relative_error(zeros, zeros), 0.0);
  const std::vector<float> negative_zeros(5, -0.0f);
  EXPECT_EQ(relative_error(negative_zeros, zeros), 0.0) << "-0 == +0";
}

TEST(RelativeError, EmptyArraysGiveZero) {
  const std::vector<float> none;
  EXPECT_EQ(relative_error(none, none), 0.0);
}

TEST(RelativeError, EqualArraysGiveZero) {
  const std::vector<float> v{1.0f, -2.5f, 0.0f, 3e-30f, 3e30f};
  EXPECT_EQ(relative_error(v, v), 0.0);
}

TEST(RelativeError, MeasuresATrueDifferenceExactly) {
  const std::vector<float> got{1.0f, 2.0f}, want{1.0f, 2.5f};
  EXPECT_EQ(relative_error(got, want), 0.5 / 2.5);
  // The scale is the reference's, in the max norm; the difference is the largest one.
  const std::vector<float> got2{0.0f, 4.0f, -1.0f}, want2{-8.0f, 3.0f, 1.0f};
  EXPECT_EQ(relative_error(got2, want2), 8.0 / 8.0);
  EXPECT_EQ(relative_error(want2, got2), 8.0 / 4.0) << "the scale is b's, not a's";
}

TEST(RelativeError, ZeroReferenceWithNonzeroResultIsInfinite) {
  const std::vector<float> zeros(3, 0.0f), got{0.0f, 1e-30f, 0.0f};
  EXPECT_TRUE(is_pos_inf(relative_error(got, zeros)));
  EXPECT_EQ(relative_error(zeros, got), 1.0) << "a zero result against a nonzero reference is 100% off";
}

TEST(RelativeError, ExtremesStayFinite) {
  const float big = std::numeric_limits<float>::max(), tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<float> got{-big}, want{big};
  EXPECT_EQ(relative_error(got, want), 2.0) << "no overflow: the difference is taken in double";
  const std::vector<float> got_tiny{big}, want_tiny{tiny};
  const double e = relative_error(got_tiny, want_tiny);
  EXPECT_TRUE(std::isfinite(e) && e > 1e80) << e;
}

TEST(MaxOrNan, KeepsNaNInARunningMaximum) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(max_or_nan(1.0, 2.0), 2.0);
  EXPECT_EQ(max_or_nan(2.0, 1.0), 2.0);
  EXPECT_TRUE(std::isnan(max_or_nan(1.0, nan))) << "std::max would return 1";
  EXPECT_TRUE(std::isnan(max_or_nan(nan, 1.0)));
  double worst = 0.0;
  for (double e : {0.5, nan, 0.25, 3.0}) worst = max_or_nan(worst, e);
  EXPECT_TRUE(std::isnan(worst)) << "a NaN early in a running maximum must survive later values";
  EXPECT_FALSE(worst < kTol);
}

}  // namespace
