// Chapter 08, TODO(08.2): one worker's memory on a grid with ZeRO, on hand-computed cases and on
// the ZeRO paper's published figure.
#include "ch08/memory.hpp"

#include <gtest/gtest.h>

namespace {

using ptt::ch08::memory_per_worker;
using ptt::ch08::MemoryInputs;
using ptt::ch08::Precision;

MemoryInputs inputs(double psi, int dp, int zero, Precision precision, int k, double activations = 0) {
  MemoryInputs in;
  in.params = psi;
  in.dp = dp;
  in.zero_stage = zero;
  in.precision = precision;
  in.optimizer_k = k;
  in.activation_bytes = activations;
  return in;
}

TEST(MemoryPerWorker, Fp32SgdWithoutZero) {
  // 1000 fp32 parameters: 4000 bytes each of values, gradients and SGD's velocity; activations as given.
  const auto m = memory_per_worker(inputs(1000, 4, 0, Precision::fp32, 1, 123));
  EXPECT_DOUBLE_EQ(m.params, 4000);
  EXPECT_DOUBLE_EQ(m.grads, 4000);
  EXPECT_DOUBLE_EQ(m.optimizer, 4000);
  EXPECT_DOUBLE_EQ(m.activations, 123);
  EXPECT_DOUBLE_EQ(m.total(), 12123);
}

TEST(MemoryPerWorker, Fp32AdamHoldsTwoStates) {
  // Adam's m and v: 8 bytes per parameter; ZeRO-1 over 4 replicas keeps a quarter (chapter 06).
  EXPECT_DOUBLE_EQ(memory_per_worker(inputs(1000, 4, 0, Precision::fp32, 2)).optimizer, 8000);
  const auto m = memory_per_worker(inputs(1000, 4, 1, Precision::fp32, 2));
  EXPECT_DOUBLE_EQ(m.optimizer, 2000);
  EXPECT_DOUBLE_EQ(m.params, 4000);
  EXPECT_DOUBLE_EQ(m.grads, 4000);
}

TEST(MemoryPerWorker, StagesShardOptimizerThenGradientsThenParameters) {
  // 800 fp32 parameters, Adam, 8 replicas: 3200 + 3200 + 6400 bytes unsharded.
  const double want[4][3] = {{3200, 3200, 6400}, {3200, 3200, 800}, {3200, 400, 800}, {400, 400, 800}};
  for (int stage = 0; stage <= 3; ++stage) {
    const auto m = memory_per_worker(inputs(800, 8, stage, Precision::fp32, 2, 50));
    EXPECT_DOUBLE_EQ(m.params, want[stage][0]) << "stage " << stage;
    EXPECT_DOUBLE_EQ(m.grads, want[stage][1]) << "stage " << stage;
    EXPECT_DOUBLE_EQ(m.optimizer, want[stage][2]) << "stage " << stage;
    EXPECT_DOUBLE_EQ(m.activations, 50) << "stage " << stage << ": ZeRO does not shard activations";
  }
}

TEST(MemoryPerWorker, AShardIsWholeParameters) {
  // 10 fp32 parameters, SGD, over 4 replicas: shards of 3, 3, 2 and 2 parameters (chapter 06 gives
  // the first 10 mod 4 ranks one more), and the worker that needs the most holds 3, 12 bytes,
  // not 10/4 = 2.5 parameters' 10 bytes. 12 over 4 divides: 3 each.
  for (int stage = 1; stage <= 3; ++stage) {
    const auto m = memory_per_worker(inputs(10, 4, stage, Precision::fp32, 1));
    EXPECT_DOUBLE_EQ(m.optimizer, 12) << "stage " << stage;
    EXPECT_DOUBLE_EQ(m.grads, stage >= 2 ? 12 : 40) << "stage " << stage;
    EXPECT_DOUBLE_EQ(m.params, stage >= 3 ? 12 : 40) << "stage " << stage;
  }
  EXPECT_DOUBLE_EQ(memory_per_worker(inputs(12, 4, 3, Precision::fp32, 1)).total(), 36);
  EXPECT_DOUBLE_EQ(memory_per_worker(inputs(10, 4, 3, Precision::fp32, 1)).buffers, 0);  // the cost model's
}

TEST(MemoryPerWorker, MixedPrecisionKeepsAnFp32MasterCopy) {
  // 16-bit values and gradients (2 + 2 bytes); the state holds the fp32 master copy and k fp32
  // states: K = 12 for Adam, 8 for SGD with momentum.
  const auto adam = memory_per_worker(inputs(1000, 1, 0, Precision::mixed, 2));
  EXPECT_DOUBLE_EQ(adam.params, 2000);
  EXPECT_DOUBLE_EQ(adam.grads, 2000);
  EXPECT_DOUBLE_EQ(adam.optimizer, 12000);
  EXPECT_DOUBLE_EQ(memory_per_worker(inputs(1000, 1, 0, Precision::mixed, 1)).optimizer, 8000);
}

TEST(MemoryPerWorker, OneReplicaShardsNothing) {
  // dp = 1: every stage holds everything (chapter 06: --zero 1 with dp 1 changes nothing).
  for (int stage = 0; stage <= 3; ++stage)
    EXPECT_DOUBLE_EQ(memory_per_worker(inputs(1000, 1, stage, Precision::fp32, 1)).total(), 12000)
        << "stage " << stage;
}

// Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models"
// (SC 2020), Figure 1: a 7.5B-parameter model, mixed-precision Adam (K = 12), 64 data-parallel
// devices: 120 GB per device, 31.4 GB with Pos, 16.6 GB with Pos+g, 1.9 GB with Pos+g+p.
// GB = 1e9 bytes; the published figures are rounded to the digits shown (half a unit of the
// last digit: 0.05 GB, 0.5 GB for 120).
TEST(ZeroPaper, Figure1SevenPointFiveBillionOn64Devices) {
  const double psi = 7.5e9, published[4] = {120, 31.4, 16.6, 1.9}, rounding[4] = {0.5, 0.05, 0.05, 0.05};
  for (int stage = 0; stage <= 3; ++stage) {
    const double gb = memory_per_worker(inputs(psi, 64, stage, Precision::mixed, 2)).total() / 1e9;
    EXPECT_NEAR(gb, published[stage], rounding[stage]) << "ZeRO stage " << stage;
  }
}

TEST(ZeroPaper, BaselineIs16BytesPerParameter) {
  // Section 3.1: 2 Psi + 2 Psi + K Psi with K = 12, 16 Psi in all ("at least 24 GB" for 1.5B).
  EXPECT_DOUBLE_EQ(memory_per_worker(inputs(1.5e9, 1, 0, Precision::mixed, 2)).total(), 24e9);
}

}  // namespace
