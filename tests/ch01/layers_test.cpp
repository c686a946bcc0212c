// Chapter 01: the layer math (TODO 01.1-01.4) against hand-computed values, plain loops in double,
// and finite differences.
#include "ptt/layers.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "ptt/gradcheck.hpp"
#include "ptt/mlp.hpp"
#include "test_util.hpp"

namespace ptt {
namespace {

using test::random_matrix;
using test::random_vector;

// --- TODO(01.1): Linear forward -------------------------------------------------------------

TEST(LinearForward, MatchesHandComputed) {
  Matrix X(2, 3);
  X << 1, 2, 3, 4, 5, 6;
  Matrix W(2, 3);  // [O=2, I=3]
  W << 1, 0, -1, 0.5, 0.5, 0.5;
  Vector b(2);
  b << 10, -1;
  Matrix Y(2, 2);
  linear_forward(X, W, b, Y);
  // row 0: (1 - 3) + 10 = 8,  0.5 * 6 - 1 = 2;  row 1: (4 - 6) + 10 = 8,  0.5 * 15 - 1 = 6.5
  EXPECT_FLOAT_EQ(Y(0, 0), 8.0f);
  EXPECT_FLOAT_EQ(Y(0, 1), 2.0f);
  EXPECT_FLOAT_EQ(Y(1, 0), 8.0f);
  EXPECT_FLOAT_EQ(Y(1, 1), 6.5f);
}

TEST(LinearForward, MatchesLoopReferenceOnOddShapes) {
  for (auto [B, I, O] : {std::tuple{1, 1, 1}, {7, 13, 5}, {33, 784, 10}}) {
    const Matrix X = random_matrix(B, I, 1);
    const Matrix W = random_matrix(O, I, 2);
    const Vector b = random_vector(O, 3);
    Matrix Y = Matrix::Constant(B, O, std::nanf(""));
    linear_forward(X, W, b, Y);
    // Float rounding in a dot product grows with sum_k |x_k w_k|, not with the (possibly
    // cancelling) result, so the error is measured against that scale.
    double worst = 0.0;
    for (int i = 0; i < B; ++i)
      for (int j = 0; j < O; ++j) {
        double s = b(j), scale = std::abs(b(j));
        for (int k = 0; k < I; ++k) {
          s += double(X(i, k)) * W(j, k);
          scale += std::abs(double(X(i, k)) * W(j, k));
        }
        worst = test::max_or_nan(worst, std::abs(Y(i, j) - s) / scale);  // an unwritten NaN must count
      }
    EXPECT_LT(worst, 1e-6) << B << "x" << I << "x" << O;
  }
}

// --- TODO(01.2) and TODO(01.3): Linear backward -----------------------------------------------

// The gradient buffers start as garbage (NaN), as a reused buffer would: the backward must
// overwrite them, not add to them, and every element must be written (NaN fails any comparison).
constexpr float kGarbage = std::numeric_limits<float>::quiet_NaN();

TEST(LinearBackward, ParameterGradientsMatchHandComputed) {
  Matrix X(2, 2);
  X << 1, 2, 3, 4;
  Matrix W = Matrix::Ones(3, 2);
  Matrix dY(2, 3);
  dY << 1, 0, -1, 2, 1, 0;
  Matrix dW = Matrix::Constant(3, 2, kGarbage);
  Vector db = Vector::Constant(3, kGarbage);
  linear_backward(X, W, dY, dW, db, nullptr);
  Matrix expected(3, 2);  // dY^T X
  expected << 7, 10, 3, 4, -1, -2;
  EXPECT_EQ(dW, expected);
  EXPECT_FLOAT_EQ(db(0), 3.0f);
  EXPECT_FLOAT_EQ(db(1), 1.0f);
  EXPECT_FLOAT_EQ(db(2), -1.0f);
}

TEST(LinearBackward, InputGradientMatchesHandComputed) {
  Matrix X = Matrix::Ones(2, 2);
  Matrix W(3, 2);
  W << 1, 2, 0, 1, -1, 0;
  Matrix dY(2, 3);
  dY << 1, 0, -1, 2, 1, 0;
  Matrix dW = Matrix::Constant(3, 2, kGarbage), dX = Matrix::Constant(2, 2, kGarbage);
  Vector db = Vector::Constant(3, kGarbage);
  MatrixRef dx_ref(dX);
  linear_backward(X, W, dY, dW, db, &dx_ref);
  Matrix expected(2, 2);  // dY W
  expected << 2, 2, 2, 5;
  EXPECT_EQ(dX, expected);
}

// L(X, W, b) = sum(R .* linear(X, W, b)) for a fixed random R: dL/dY = R.
struct LinearProbe {
  Matrix X, W, R;
  Vector b;
  double loss() const {
    Matrix Y(X.rows(), W.rows());
    linear_forward(X, W, b, Y);
    return (Y.cast<double>().array() * R.cast<double>().array()).sum();
  }
};

TEST(LinearBackward, ParameterGradientsMatchFiniteDifferences) {
  LinearProbe p{random_matrix(5, 4, 10), random_matrix(3, 4, 11), random_matrix(5, 3, 12),
                random_vector(3, 13)};
  Matrix dW(3, 4);
  Vector db(3);
  linear_backward(p.X, p.W, p.R, dW, db, nullptr);
  auto rw = check_gradient({p.W.data(), size_t(p.W.size())}, {dW.data(), size_t(dW.size())},
                           [&] { return p.loss(); });
  auto rb = check_gradient({p.b.data(), size_t(p.b.size())}, {db.data(), size_t(db.size())},
                           [&] { return p.loss(); });
  EXPECT_LT(rw.rel_error, 1e-4);
  EXPECT_LT(rb.rel_error, 1e-4);
  EXPECT_GT(rw.numeric_norm, 0.1) << "the loss does not depend on W: is linear_forward done?";
}

TEST(LinearBackward, InputGradientMatchesFiniteDifferences) {
  LinearProbe p{random_matrix(5, 4, 20), random_matrix(3, 4, 21), random_matrix(5, 3, 22),
                random_vector(3, 23)};
  Matrix dW(3, 4), dX(5, 4);
  Vector db(3);
  MatrixRef dx_ref(dX);
  linear_backward(p.X, p.W, p.R, dW, db, &dx_ref);
  auto r = check_gradient({p.X.data(), size_t(p.X.size())}, {dX.data(), size_t(dX.size())},
                          [&] { return p.loss(); });
  EXPECT_LT(r.rel_error, 1e-4);
  EXPECT_GT(r.numeric_norm, 0.1) << "the loss does not depend on X: is linear_forward done?";
}

// --- ReLU (given) ----------------------------------------------------------------------------

TEST(Relu, ForwardAndBackwardMask) {
  Matrix Z(1, 4);
  Z << -1, 0, 2, -0.5;
  relu_forward(Z);
  EXPECT_EQ(Z, (Matrix(1, 4) << 0, 0, 2, 0).finished());
  Matrix dA = Matrix::Constant(1, 4, 3.0f);
  relu_backward(Z, dA);
  EXPECT_EQ(dA, (Matrix(1, 4) << 0, 0, 3, 0).finished());
}

// --- TODO(01.4): softmax cross-entropy --------------------------------------------------------

TEST(SoftmaxCrossEntropy, LossAndGradientMatchHandComputed) {
  Matrix z(2, 3);
  z << 0, 0, 0, 1, 2, 3;
  const std::vector<std::uint8_t> y{1, 2};
  Matrix d(2, 3);
  const float loss = softmax_cross_entropy(z, y, d);
  const double e = std::exp(1.0), e2 = e * e, e3 = e2 * e, s = e + e2 + e3;
  const double expected = 0.5 * (std::log(3.0) + (std::log(s) - 3.0));
  EXPECT_NEAR(loss, expected, 1e-6);
  EXPECT_NEAR(d(0, 0), (1.0 / 3) / 2, 1e-7);
  EXPECT_NEAR(d(0, 1), (1.0 / 3 - 1) / 2, 1e-7);
  EXPECT_NEAR(d(1, 2), (e3 / s - 1) / 2, 1e-7);
  EXPECT_NEAR(d(1, 0), (e / s) / 2, 1e-7);
}

TEST(SoftmaxCrossEntropy, GradientMatchesFiniteDifferences) {
  Matrix z = random_matrix(6, 5, 30, 2.0f);
  const std::vector<std::uint8_t> y{0, 4, 2, 2, 1, 3};
  Matrix d(6, 5), scratch(6, 5);
  softmax_cross_entropy(z, y, d);
  auto r = check_gradient(
      {z.data(), size_t(z.size())}, {d.data(), size_t(d.size())},
      [&] { return double(softmax_cross_entropy(z, y, scratch)); }, 1e-2);
  EXPECT_LT(r.rel_error, 1e-3);
  EXPECT_GT(r.numeric_norm, 0.01) << "the loss does not depend on the logits";
}

TEST(SoftmaxCrossEntropy, StableForHugeLogits) {
  Matrix z(1, 3);
  z << 1000, 0, -1000;  // exp(1000) overflows float: the max must be subtracted first
  const std::vector<std::uint8_t> y{1};
  Matrix d(1, 3);
  const float loss = softmax_cross_entropy(z, y, d);
  EXPECT_NEAR(loss, 1000.0f, 1e-3);
  EXPECT_TRUE(d.allFinite());
  EXPECT_NEAR(d(0, 0), 1.0f, 1e-6);
  EXPECT_NEAR(d(0, 1), -1.0f, 1e-6);
}

// --- the whole MLP: every TODO together -------------------------------------------------------

class MlpGradient : public ::testing::TestWithParam<std::vector<int>> {};

TEST_P(MlpGradient, MatchesFiniteDifferences) {
  const std::vector<int> sizes = GetParam();
  ParamLayout layout(sizes);
  std::vector<float> params(layout.size()), grads(layout.size());
  he_init(layout, params, 7);
  // Non-zero biases, so that their gradients are tested away from the initial point.
  for (int l = 0; l < layout.num_layers(); ++l)
    linear_view(layout, std::span<float>(params), l).b = random_vector(layout.layer(l).out, 40 + l) * 0.1f;
  const Matrix X = random_matrix(5, sizes.front(), 50);
  std::vector<std::uint8_t> y(5);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::uint8_t(i % std::size_t(sizes.back()));
  Workspace ws;
  mlp_forward(layout, params, X, ws);
  mlp_backward(layout, params, y, ws, grads);
  // ReLU is not differentiable at 0: a perturbation that moves a hidden unit across 0 makes the
  // central difference meaningless. Record the sign pattern and skip such coordinates (few).
  auto pattern = [&](const Workspace& w) {
    std::vector<bool> p;
    for (std::size_t l = 1; l + 1 < w.acts.size(); ++l)
      for (Eigen::Index k = 0; k < w.acts[l].size(); ++k) p.push_back(w.acts[l].data()[k] > 0.0f);
    return p;
  };
  const std::vector<bool> base = pattern(ws);
  bool crossed = false;
  Matrix scratch;
  auto loss = [&] {
    Workspace w;
    mlp_forward(layout, params, X, w);
    crossed = crossed || pattern(w) != base;
    scratch.resize(w.logits().rows(), w.logits().cols());
    return double(softmax_cross_entropy(w.logits(), y, scratch));
  };
  auto kink = [&] { return std::exchange(crossed, false); };
  const auto r = check_gradient(params, grads, loss, 3e-3, 1, kink);
  EXPECT_LT(r.rel_error, 1e-4) << "max abs error " << r.max_abs_error << " over " << r.checked;
  EXPECT_LE(r.skipped, layout.size() / 10) << "too many kinks to check";
  EXPECT_GT(r.numeric_norm, 0.01) << "the loss does not depend on the parameters";
  EXPECT_EQ(r.checked + r.skipped, layout.size());
}

INSTANTIATE_TEST_SUITE_P(Depths, MlpGradient,
                         ::testing::Values(std::vector<int>{6, 3}, std::vector<int>{6, 8, 3},
                                           std::vector<int>{9, 7, 5, 4}, std::vector<int>{4, 6, 6, 6, 2}));

}  // namespace
}  // namespace ptt
