// Helpers shared by the chapter 01 tests: seeded random matrices and simple loop references.
#pragma once

#include <algorithm>
#include <cmath>
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

/// max_i |a_i - b_i| / max_i |b_i|: the error relative to the scale of b (e.g. of a gradient).
inline double relative_error(std::span<const float> a, std::span<const float> b) {
  double diff = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return diff / scale;
}

}  // namespace ptt::test
