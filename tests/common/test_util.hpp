// Helpers shared by every chapter's tests: seeded random matrices and NaN-proof comparisons.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <span>

#include "ptt/rng.hpp"
#include "ptt/tensor.hpp"

namespace ptt::test {

/// A [rows, cols] matrix of N(0, 1) draws from make_rng(seed, Test, stream) — never zeros.
inline Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, std::uint64_t stream, float scale = 1.0f) {
  auto rng = make_rng(1234, RngPurpose::Test, stream);
  std::normal_distribution<float> normal(0.0f, scale);
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

inline Vector random_vector(Eigen::Index n, std::uint64_t stream) {
  const Matrix m = random_matrix(n, 1, stream);
  return Eigen::Map<const Vector>(m.data(), n);
}

/// @brief The larger of acc and x, but NaN if either is NaN.
///
/// For running maxima of errors: `std::max(acc, NaN)` returns acc, so a NaN error would vanish
/// from `worst = std::max(worst, e)` and `EXPECT_LT(worst, tol)` would pass. With this, a NaN
/// sticks and the comparison fails.
inline double max_or_nan(double acc, double x) {
  if (std::isnan(acc) || std::isnan(x)) return std::numeric_limits<double>::quiet_NaN();
  return x > acc ? x : acc;
}

/// @brief The error of a relative to the scale of b (e.g. of a gradient), in the max norm.
///
/// Contract, meant for `EXPECT_LT(relative_error(got, want), tol)`:
/// - a.size() != b.size(), or any NaN or ±Inf in a or in b: +infinity (the comparison fails);
/// - a == b element by element (all-zero and empty arrays included): 0;
/// - otherwise max_i |a_i - b_i| / max_i |b_i|, computed in double; +infinity when b is all zero
///   (a then differs from it).
/// It never returns NaN. Note that +infinity also satisfies `EXPECT_GT(.., tol)`: a test that
/// expects a difference must check that the result is finite as well.
/// @param a the result under test
/// @param b the reference, which sets the scale
/// @return the relative error, in [0, +infinity]
inline double relative_error(std::span<const float> a, std::span<const float> b) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (a.size() != b.size()) return kInf;
  double diff = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) return kInf;
    // Finite floats: in double their difference and the ratio below stay finite, never NaN.
    const double d = std::abs(double(a[i]) - double(b[i]));
    const double s = std::abs(double(b[i]));
    if (!(d <= diff)) diff = d;
    if (!(s <= scale)) scale = s;
  }
  if (diff == 0.0) return 0.0;
  if (scale == 0.0) return kInf;
  return diff / scale;
}

}  // namespace ptt::test
