// Chapter 04's training kernels (solutions/ch04/train_kernels.cu), unchanged, on the CUDA emulator,
// against chapter 01's functions (ptt/layers.hpp, ptt/optim.hpp, ptt/metrics.hpp), each in the three
// schedule orders (forward, reverse, seeded random).
//
// Tolerances: gather, bias + ReLU, ReLU backward and the count of correct predictions exactly;
// SGD and Adam within 1e-6 (max-norm relative, test_util.hpp), as the chapter promises; softmax
// cross-entropy and the bias gradient within 1e-5 (another exp, another summation order).
// Every output is bit-identical across the three orders, except the loss sum: the kernel adds each
// row's loss to one double with atomicAdd, and the emulator applies atomics in its schedule order,
// so the order of the additions changes with the schedule, as it does on a GPU; it is compared
// with the reference in every order instead.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "ch04/train_kernels.hpp"
#include "ptt/layers.hpp"
#include "ptt/metrics.hpp"
#include "ptt/optim.hpp"
#include "ptt_emu/emulator.hpp"
#include "test_util.hpp"

namespace {

namespace emu = ptt::emu;
using ptt::test::relative_error;

constexpr emu::Order kOrders[] = {emu::Order::Forward, emu::Order::Reverse, emu::Order::Random};

std::vector<float> to_vector(const ptt::Matrix& m) { return {m.data(), m.data() + m.size()}; }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// Runs @p f once per order; returns its results, and fails the test unless they have the same bits.
template <class F>
std::vector<std::vector<float>> in_every_order(F&& f) {
  std::vector<std::vector<float>> results;
  for (const emu::Order order : kOrders) {
    const emu::ScopedOptions scoped({order, 99});
    results.push_back(f());
    EXPECT_TRUE(same_bits(results.front(), results.back()))
        << emu::order_name(order) << " differs from forward";
  }
  return results;
}

TEST(EmulatedTrainKernels, GatherBatchPicksTheStepsRows) {
  const int n = 50, features = 300, batch = 16, rows = 11;  // rows < batch: the epoch's last batch
  const ptt::Matrix data = ptt::test::random_matrix(n, features, 1);
  std::vector<std::uint8_t> labels(n);
  for (int i = 0; i < n; ++i) labels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i % 10);
  std::vector<std::uint32_t> order(n);
  for (int i = 0; i < n; ++i)
    order[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>((i * 7 + 3) % n);
  const int step = 2;
  in_every_order([&] {
    std::vector<float> x(static_cast<std::size_t>(rows) * features, std::numeric_limits<float>::quiet_NaN());
    std::vector<std::uint8_t> y(rows, 255);
    ptt::ch04::gather_batch(data.data(), labels.data(), features, order.data(), &step, batch, rows, x.data(),
                            y.data(), nullptr);
    for (int r = 0; r < rows; ++r) {
      const std::uint32_t src = order[static_cast<std::size_t>(step * batch + r)];
      EXPECT_EQ(y[static_cast<std::size_t>(r)], labels[src]);
      for (int f = 0; f < features; ++f)
        EXPECT_EQ(x[static_cast<std::size_t>(r * features + f)], data(src, f)) << r << "," << f;
    }
    return x;
  });
}

TEST(EmulatedTrainKernels, BiasActivationMatchesChapter01) {
  const int rows = 37, cols = 45;
  const ptt::Matrix y0 = ptt::test::random_matrix(rows, cols, 2);
  const ptt::Vector b = ptt::test::random_vector(cols, 3);
  for (const bool relu : {false, true}) {
    ptt::Matrix want = y0;
    want.rowwise() += b.transpose();
    if (relu) ptt::relu_forward(want);
    in_every_order([&] {
      ptt::Matrix got = y0;
      ptt::ch04::bias_activation(got.data(), b.data(), rows, cols, relu, nullptr);
      EXPECT_EQ(relative_error(to_vector(got), to_vector(want)), 0.0) << "relu " << relu;
      return to_vector(got);
    });
  }
}

TEST(EmulatedTrainKernels, ReluBackwardMatchesChapter01) {
  const int rows = 29, cols = 70;
  ptt::Matrix a = ptt::test::random_matrix(rows, cols, 4);
  ptt::relu_forward(a);
  const ptt::Matrix da = ptt::test::random_matrix(rows, cols, 5);
  ptt::Matrix want = da;
  ptt::relu_backward(a, want);
  in_every_order([&] {
    ptt::Matrix got = da;
    ptt::ch04::relu_backward(a.data(), got.data(), static_cast<std::size_t>(a.size()), nullptr);
    EXPECT_EQ(relative_error(to_vector(got), to_vector(want)), 0.0);
    return to_vector(got);
  });
}

/// Logits with large values and ties in the maximum (argmax ties go to the lowest index).
struct SoftmaxCase {
  int rows, classes;
  float scale;
};

class EmulatedSoftmax : public ::testing::TestWithParam<SoftmaxCase> {};

std::string softmax_case_name(const ::testing::TestParamInfo<SoftmaxCase>& param_info) {
  const SoftmaxCase& c = param_info.param;
  std::ostringstream name;
  name << "B" << c.rows << "_C" << c.classes << "_scale" << static_cast<int>(c.scale);
  return name.str();
}

TEST_P(EmulatedSoftmax, MatchesChapter01) {
  // Plain variables, not a structured binding: Clang 14 cannot capture those in the lambda below.
  const int rows = GetParam().rows, classes = GetParam().classes;
  const float scale = GetParam().scale;
  ptt::Matrix z = ptt::test::random_matrix(rows, classes, 6, scale);
  for (int r = 0; r < rows; r += 3) {  // ties: two or three equal maxima
    const float m = z.row(r).maxCoeff() + scale;
    z(r, (r + 1) % classes) = m;
    z(r, (r + 5) % classes) = m;
    if (r % 2 == 0) z(r, classes - 1) = m;
  }
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r)
    labels[static_cast<std::size_t>(r)] =
        static_cast<std::uint8_t>(r % 3 == 0 ? (r + 1) % classes : (r * 7) % classes);
  ptt::Matrix want_dz(rows, classes);
  const float want_loss = ptt::softmax_cross_entropy(z, labels, want_dz);
  const std::size_t want_correct = ptt::count_correct(z, labels);
  ASSERT_TRUE(std::isfinite(want_loss));
  in_every_order([&] {
    ptt::Matrix dz = ptt::Matrix::Constant(rows, classes, std::numeric_limits<float>::quiet_NaN());
    double loss_sum = 0.5;  // the kernel ADDS to it
    unsigned correct = 3;
    ptt::ch04::softmax_cross_entropy(z.data(), labels.data(), rows, classes, dz.data(), &loss_sum, &correct,
                                     nullptr);
    EXPECT_LT(relative_error(to_vector(dz), to_vector(want_dz)), 1e-5);
    const float mean_loss = static_cast<float>((loss_sum - 0.5) / rows);
    EXPECT_LT(relative_error(std::vector<float>{mean_loss}, std::vector<float>{want_loss}), 1e-5)
        << mean_loss << " vs " << want_loss;
    EXPECT_EQ(correct - 3u, want_correct);
    return to_vector(dz);  // the loss sum's last bits follow the order of the atomics: not compared
  });
}

INSTANTIATE_TEST_SUITE_P(Shapes, EmulatedSoftmax,
                         ::testing::Values(SoftmaxCase{13, 10, 1.0f},    // rows not a multiple of 8 warps
                                           SoftmaxCase{40, 10, 300.0f},  // large logits: exp(z) overflows
                                           SoftmaxCase{9, 37, 50.0f},    // more classes than lanes
                                           SoftmaxCase{1, 1, 1.0f}),     // one class
                         softmax_case_name);

TEST(EmulatedTrainKernels, BiasGradientMatchesChapter01) {
  for (const auto& shape : {std::pair{37, 45}, std::pair{1, 1}, std::pair{128, 10}, std::pair{5, 70}}) {
    const int rows = shape.first, cols = shape.second;  // not a structured binding (Clang 14, lambda)
    const int in = 3;
    const ptt::Matrix x = ptt::test::random_matrix(rows, in, 7), w = ptt::test::random_matrix(cols, in, 8);
    const ptt::Matrix dy = ptt::test::random_matrix(rows, cols, 9);
    ptt::Matrix dw(cols, in);
    ptt::Vector want(cols);
    ptt::linear_backward(x, w, dy, dw, want, nullptr);
    in_every_order([&] {
      std::vector<float> db(static_cast<std::size_t>(cols), std::numeric_limits<float>::quiet_NaN());
      ptt::ch04::bias_gradient(dy.data(), rows, cols, db.data(), nullptr);
      EXPECT_LT(relative_error(db, std::vector<float>(want.data(), want.data() + cols)), 1e-5)
          << rows << "x" << cols;
      return db;
    });
  }
}

/// Three steps of an optimizer on the emulator and with chapter 01's class: parameters and state.
TEST(EmulatedTrainKernels, SgdMatchesChapter01) {
  const std::size_t n = 1000;
  const float momentum = 0.9f;
  const std::vector<float> lrs = {0.1f, 0.05f, 0.025f};
  const ptt::Matrix p0 = ptt::test::random_matrix(static_cast<Eigen::Index>(n), 1, 10);
  std::vector<std::vector<float>> grads;
  for (int s = 0; s < 3; ++s)
    grads.push_back(to_vector(ptt::test::random_matrix(static_cast<Eigen::Index>(n), 1, 11 + s)));

  std::vector<float> want = to_vector(p0);
  ptt::Sgd sgd(n, lrs[0], momentum);
  for (int s = 0; s < 3; ++s) {
    sgd.set_lr(lrs[static_cast<std::size_t>(s)]);
    sgd.step(want, grads[static_cast<std::size_t>(s)]);
  }
  const std::vector<float> want_v(sgd.state().begin(), sgd.state().end());

  std::vector<ptt::ch04::StepHyper> hyper;
  for (const float lr : lrs) hyper.push_back({lr, 1.0f, 1.0f});
  in_every_order([&] {
    std::vector<float> p = to_vector(p0), v(n, 0.0f);
    for (int step = 0; step < 3; ++step)
      ptt::ch04::sgd_update(p.data(), grads[static_cast<std::size_t>(step)].data(), v.data(), n, momentum,
                            hyper.data(), &step, nullptr);
    EXPECT_LT(relative_error(p, want), 1e-6);
    EXPECT_LT(relative_error(v, want_v), 1e-6);
    return p;
  });
}

TEST(EmulatedTrainKernels, AdamMatchesChapter01) {
  const std::size_t n = 1000;
  const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  const ptt::Matrix p0 = ptt::test::random_matrix(static_cast<Eigen::Index>(n), 1, 20);
  std::vector<std::vector<float>> grads;
  for (int s = 0; s < 3; ++s)
    grads.push_back(to_vector(ptt::test::random_matrix(static_cast<Eigen::Index>(n), 1, 21 + s)));

  std::vector<float> want = to_vector(p0);
  ptt::Adam adam(n, lr, b1, b2, eps);
  for (int s = 0; s < 3; ++s) adam.step(want, grads[static_cast<std::size_t>(s)]);
  const std::vector<float> want_state(adam.state().begin(), adam.state().end());

  std::vector<ptt::ch04::StepHyper> hyper;
  for (int t = 1; t <= 3; ++t)  // Adam's bias corrections, as ptt::Adam::begin_step computes them
    hyper.push_back(
        {lr, 1.0f - std::pow(b1, static_cast<float>(t)), 1.0f - std::pow(b2, static_cast<float>(t))});
  in_every_order([&] {
    std::vector<float> p = to_vector(p0), moments(2 * n, 0.0f);
    for (int step = 0; step < 3; ++step)
      ptt::ch04::adam_update(p.data(), grads[static_cast<std::size_t>(step)].data(), moments.data(), n, b1,
                             b2, eps, hyper.data(), &step, nullptr);
    EXPECT_LT(relative_error(p, want), 1e-6);
    EXPECT_LT(relative_error(moments, want_state), 1e-6);
    return p;
  });
}

TEST(EmulatedTrainKernels, AdvanceStepIncrementsTheDeviceCounter) {
  int step = 41;
  ptt::ch04::advance_step(&step, nullptr);
  EXPECT_EQ(step, 42);
}

}  // namespace
