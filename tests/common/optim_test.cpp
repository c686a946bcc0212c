// The optimizers against their update formulas, computed by hand in double.
#include "ptt/optim.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ptt/error.hpp"

namespace ptt {
namespace {

TEST(Sgd, MomentumUpdateMatchesFormula) {
  Sgd sgd(2, 0.1f, 0.9f);
  std::vector<float> p{1.0f, -2.0f};
  sgd.step(p, std::vector<float>{0.5f, 1.0f});  // v = g; p -= lr v
  EXPECT_FLOAT_EQ(p[0], 1.0f - 0.1f * 0.5f);
  EXPECT_FLOAT_EQ(p[1], -2.0f - 0.1f * 1.0f);
  sgd.step(p, std::vector<float>{0.5f, -1.0f});  // v = 0.9 v + g
  EXPECT_FLOAT_EQ(p[0], 0.95f - 0.1f * (0.9f * 0.5f + 0.5f));
  EXPECT_FLOAT_EQ(p[1], -2.1f - 0.1f * (0.9f * 1.0f - 1.0f));
}

TEST(Sgd, ZeroMomentumIsPlainGradientDescent) {
  Sgd sgd(1, 0.5f, 0.0f);
  std::vector<float> p{3.0f};
  for (int i = 0; i < 3; ++i) sgd.step(p, std::vector<float>{2.0f});
  EXPECT_FLOAT_EQ(p[0], 0.0f);
}

TEST(Adam, MatchesFormulaOverThreeSteps) {
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  Adam adam(2, float(lr));
  std::vector<float> p{0.5f, -1.0f};
  double ref[2] = {0.5, -1.0}, m[2] = {0, 0}, v[2] = {0, 0};
  const double g[3][2] = {{0.1, -3.0}, {0.2, 1.0}, {-0.4, 0.5}};
  for (int t = 1; t <= 3; ++t) {
    adam.step(p, std::vector<float>{float(g[t - 1][0]), float(g[t - 1][1])});
    for (int i = 0; i < 2; ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[t - 1][i];
      v[i] = b2 * v[i] + (1 - b2) * g[t - 1][i] * g[t - 1][i];
      ref[i] -= lr * (m[i] / (1 - std::pow(b1, t))) / (std::sqrt(v[i] / (1 - std::pow(b2, t))) + eps);
    }
    EXPECT_NEAR(p[0], ref[0], 1e-6);
    EXPECT_NEAR(p[1], ref[1], 1e-6);
  }
  EXPECT_EQ(adam.steps_taken(), 3);
}

TEST(Adam, FirstStepMovesEveryParameterByAboutLr) {
  Adam adam(3, 0.001f);
  std::vector<float> p{0, 0, 0};
  adam.step(p, std::vector<float>{1e-3f, -5.0f, 100.0f});  // m/sqrt(v) = sign(g) on step 1
  EXPECT_NEAR(p[0], -0.001f, 1e-6);
  EXPECT_NEAR(p[1], 0.001f, 1e-6);
  EXPECT_NEAR(p[2], -0.001f, 1e-6);
}

TEST(Optimizer, UpdateInRangesEqualsOneStepBitForBit) {
  for (const char* name : {"sgd", "adam"}) {
    auto whole = make_optimizer(name, 7, 0.1, 0.9), split = make_optimizer(name, 7, 0.1, 0.9);
    std::vector<float> a{1, -2, 3, -4, 5, -6, 7}, b = a;
    const std::vector<float> g{0.5f, -0.25f, 3.0f, 1e-3f, -7.0f, 0.0f, 2.0f};
    for (int s = 0; s < 3; ++s) {
      whole->step(a, g);
      split->begin_step();
      split->update_range(b, g, 4, 7);  // any order of disjoint ranges
      split->update_range(b, g, 0, 4);
    }
    EXPECT_EQ(a, b) << name;
  }
}

TEST(LrSchedule, CosineDecaysFromLrToZeroConstantStays) {
  EXPECT_DOUBLE_EQ(scheduled_lr("cosine", 0.1, 0, 100), 0.1);
  EXPECT_NEAR(scheduled_lr("cosine", 0.1, 50, 100), 0.05, 1e-12);
  EXPECT_NEAR(scheduled_lr("cosine", 0.1, 100, 100), 0.0, 1e-12);
  EXPECT_GT(scheduled_lr("cosine", 0.1, 25, 100), scheduled_lr("cosine", 0.1, 75, 100));
  EXPECT_DOUBLE_EQ(scheduled_lr("constant", 0.1, 99, 100), 0.1);
}

TEST(Sgd, SetLrChangesTheNextStep) {
  Sgd sgd(1, 0.5f, 0.0f);
  std::vector<float> p{1.0f};
  sgd.set_lr(0.25);
  sgd.step(p, std::vector<float>{2.0f});
  EXPECT_FLOAT_EQ(p[0], 0.5f);
}

TEST(MakeOptimizer, KnowsSgdAndAdamAndRefusesOthers) {
  EXPECT_EQ(make_optimizer("sgd", 4, 0.1, 0.9)->name(), "sgd");
  EXPECT_EQ(make_optimizer("adam", 4, 0.1, 0.9)->name(), "adam");
  EXPECT_THROW(make_optimizer("lion", 4, 0.1, 0.9), InputError);
}

}  // namespace
}  // namespace ptt
