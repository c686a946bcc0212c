// Chapter 04's host-side helpers, tested without a GPU: the CPU reference GEMM in every layout
// (against Eigen) and the per-step hyperparameter table (against common/src/optim.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ch04/device_trainer.hpp"
#include "ch04/gemm.hpp"
#include "ptt/error.hpp"
#include "ptt/optim.hpp"
#include "test_util.hpp"

namespace {

class GemmReference : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(GemmReference, MatchesEigenInEveryLayout) {
  const auto [ta, tb] = GetParam();
  const int M = 37, N = 53, K = 29;
  const ptt::Matrix a = ta ? ptt::test::random_matrix(K, M, 1) : ptt::test::random_matrix(M, K, 1);
  const ptt::Matrix b = tb ? ptt::test::random_matrix(N, K, 2) : ptt::test::random_matrix(K, N, 2);
  ptt::Matrix want(M, N);
  if (ta && tb)
    want = a.transpose() * b.transpose();
  else if (ta)
    want = a.transpose() * b;
  else if (tb)
    want = a * b.transpose();
  else
    want = a * b;
  std::vector<float> got(static_cast<std::size_t>(M) * N, std::nanf(""));
  ptt::ch04::gemm_reference({M,
                             N,
                             K,
                             {a.data(), static_cast<int>(a.cols()), ta},
                             {b.data(), static_cast<int>(b.cols()), tb},
                             got.data(),
                             N});
  EXPECT_LT(ptt::test::relative_error(got, {want.data(), static_cast<std::size_t>(want.size())}),
            1e-5);  // max-norm relative
}

INSTANTIATE_TEST_SUITE_P(Layouts, GemmReference, ::testing::Combine(::testing::Bool(), ::testing::Bool()));

TEST(GemmKernelNames, RoundTripAndRejectUnknown) {
  for (const auto& name : ptt::ch04::gemm_kernel_names())
    EXPECT_EQ(ptt::ch04::gemm_kernel_name(ptt::ch04::gemm_kernel_from_name(name, "--gemm")), name);
  EXPECT_THROW(ptt::ch04::gemm_kernel_from_name("bogus", "--gemm"), ptt::InputError);
}

TEST(StepHyperTable, LearningRateFollowsTheSchedule) {
  const auto table = ptt::ch04::step_hyper_table("sgd", "cosine", 0.05, 7, 20, 100);
  ASSERT_EQ(table.size(), 20u);
  for (long i = 0; i < 20; ++i) {
    EXPECT_EQ(table[static_cast<std::size_t>(i)].lr,
              static_cast<float>(ptt::scheduled_lr("cosine", 0.05, 7 + i, 100)));
    EXPECT_EQ(table[static_cast<std::size_t>(i)].c1, 1.0f);
  }
}

// Adam's update computed by hand with the table's corrections equals ptt::Adam's, bit for bit.
TEST(StepHyperTable, AdamCorrectionsReproduceTheHostOptimizer) {
  const std::size_t n = 5;
  const long first = 3;  // e.g. resumed after 3 updates
  const auto table = ptt::ch04::step_hyper_table("adam", "constant", 0.01, first, 4, 100);
  ptt::Adam adam(n, 0.01f);
  adam.set_steps_taken(first);
  std::vector<float> p(n, 0.3f), g(n), m(n, 0.0f), v(n, 0.0f), q = p;
  for (std::size_t s = 0; s < table.size(); ++s) {
    for (std::size_t i = 0; i < n; ++i)
      g[i] = 0.1f * static_cast<float>(i + 1) - 0.05f * static_cast<float>(s);
    adam.step(p, g);
    const auto& h = table[s];
    for (std::size_t i = 0; i < n; ++i) {  // the kernel's arithmetic, on the host
      m[i] = 0.9f * m[i] + (1.0f - 0.9f) * g[i];
      v[i] = 0.999f * v[i] + (1.0f - 0.999f) * g[i] * g[i];
      q[i] -= h.lr * (m[i] / h.c1) / (std::sqrt(v[i] / h.c2) + 1e-8f);
    }
  }
  EXPECT_EQ(p, q);
}

}  // namespace
