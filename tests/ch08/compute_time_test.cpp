// Chapter 08, TODO(08.3): the GEMM rate at a micro-batch's rows (linear in log(rows) between two
// measured row counts, clamped beyond them) and one stage's compute time, on hand-computed cases;
// and predict() timing each micro-batch at its own rows.
#include "ch08/compute_time.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "ch08/cost_model.hpp"

namespace {

using namespace ptt::ch08;

// 1, 2 and 5 GFLOP/s at 8, 16 and 64 rows.
RateTable ladder() { return {{8, 16, 64}, {1e9, 2e9, 5e9}}; }

TEST(GemmRate, AtATablePointIsItsRate) {
  EXPECT_DOUBLE_EQ(rate_at(ladder(), 8), 1e9);
  EXPECT_DOUBLE_EQ(rate_at(ladder(), 16), 2e9);
  EXPECT_DOUBLE_EQ(rate_at(ladder(), 64), 5e9);
}

TEST(GemmRate, LinearInLogRowsBetweenTwoPoints) {
  // 32 rows is halfway from 16 to 64 in log(rows): 2 + (5 - 2)/2 = 3.5 GFLOP/s.
  EXPECT_NEAR(rate_at(ladder(), 32), 3.5e9, 1e-6 * 3.5e9);
  // 8 sqrt(2) rows is halfway from 8 to 16: 1.5 GFLOP/s.
  EXPECT_NEAR(rate_at(ladder(), 8 * std::sqrt(2.0)), 1.5e9, 1e-6 * 1.5e9);
  // 24 rows: t = ln(24/16) / ln(64/16) = 0.405465 / 1.386294 = 0.292481; 2 + 3 t = 2.877444
  // (linear in rows would give 2 + 3 (8/48) = 2.5).
  EXPECT_NEAR(rate_at(ladder(), 24), 2.877444e9, 1e-6 * 2.877444e9);
  // A falling table (a large product spilling the cache) interpolates the same way: 3 at 8 sqrt(2).
  EXPECT_NEAR(rate_at({{8, 16}, {4e9, 2e9}}, 8 * std::sqrt(2.0)), 3e9, 1e-6 * 3e9);
}

TEST(GemmRate, ClampedBeyondTheEnds) {
  // Below 8 rows the rate at 8, above 64 the rate at 64: never extrapolated (the line through
  // 8 and 16 would reach 0 at 4 rows and go negative below).
  EXPECT_DOUBLE_EQ(rate_at(ladder(), 1), 1e9);
  EXPECT_DOUBLE_EQ(rate_at(ladder(), 4), 1e9);
  EXPECT_DOUBLE_EQ(rate_at(ladder(), 65), 5e9);
  EXPECT_DOUBLE_EQ(rate_at(ladder(), 1e6), 5e9);
}

TEST(GemmRate, OnePointIsAConstant) {
  // The shipped profile's single peak rate: the same at any rows.
  const RateTable peak{{1}, {67e12}};
  for (double rows : {0.5, 1.0, 3.0, 128.0, 1e5}) EXPECT_DOUBLE_EQ(rate_at(peak, rows), 67e12) << rows;
}

// A constant rate of `flops` FLOP/s.
RateTable constant(double flops) { return {{1}, {flops}}; }

TEST(StageCompute, HandComputedFlops) {
  // 4-8-2, 10 rows, the first layer first: forward 2 x 10 x (32 + 16) = 960 FLOPs at 1000 FLOP/s;
  // backward 2 x 10 x 32 (no dX) + 4 x 10 x 16 = 1280 FLOPs at 2000 FLOP/s.
  const std::vector<StageLayer> layers{{4, 8, 1, true}, {8, 2, 1, false}};
  const ComputeTime t = stage_compute_time(layers, 10, constant(1000), constant(2000), 1, 0);
  EXPECT_NEAR(t.forward_s, 0.96, 1e-12);
  EXPECT_NEAR(t.backward_s, 0.64, 1e-12);
}

TEST(StageCompute, OnlyTheNetworksFirstLayerSkipsDx) {
  // One layer 100 -> 10, 5 rows: 5000 multiply-adds. Backward 2 x 5000 as the first layer, else 4 x.
  const ComputeTime first = stage_compute_time({{100, 10, 1, true}}, 5, constant(1e3), constant(1e3), 1, 0);
  const ComputeTime later = stage_compute_time({{100, 10, 1, false}}, 5, constant(1e3), constant(1e3), 1, 0);
  EXPECT_NEAR(first.forward_s, 10.0, 1e-12);
  EXPECT_NEAR(later.forward_s, 10.0, 1e-12);
  EXPECT_NEAR(first.backward_s, 10.0, 1e-12);
  EXPECT_NEAR(later.backward_s, 20.0, 1e-12);
}

TEST(StageCompute, TensorParallelShare) {
  // A layer split over T = 4: a quarter of every product.
  const ComputeTime t = stage_compute_time({{100, 10, 0.25, false}}, 5, constant(1e3), constant(1e3), 1, 0);
  EXPECT_NEAR(t.forward_s, 2.5, 1e-12);
  EXPECT_NEAR(t.backward_s, 5.0, 1e-12);
}

TEST(StageCompute, EachKindAtItsRateAtTheseRows) {
  // Forward 1000 FLOP/s at 8 rows and 4000 at 64; backward half as fast. 32 rows: t =
  // ln 4 / ln 8 = 2/3, forward 1000 + 3000 (2/3) = 3000 FLOP/s, backward 1500. A layer 10 -> 10,
  // not the first: forward 2 x 32 x 100 = 6400 FLOPs, backward 12800.
  const RateTable fwd{{8, 64}, {1000, 4000}}, bwd{{8, 64}, {500, 2000}};
  const std::vector<StageLayer> layer{{10, 10, 1, false}};
  const ComputeTime at32 = stage_compute_time(layer, 32, fwd, bwd, 1, 0);
  EXPECT_NEAR(at32.forward_s, 6400.0 / 3000, 1e-9);
  EXPECT_NEAR(at32.backward_s, 12800.0 / 1500, 1e-9);
  // 2 rows (below the table): the 8-row rates; 512 rows (above): the 64-row rates.
  const ComputeTime at2 = stage_compute_time(layer, 2, fwd, bwd, 1, 0);
  EXPECT_NEAR(at2.forward_s, 400.0 / 1000, 1e-12);
  EXPECT_NEAR(at2.backward_s, 800.0 / 500, 1e-12);
  const ComputeTime at512 = stage_compute_time(layer, 512, fwd, bwd, 1, 0);
  EXPECT_NEAR(at512.forward_s, 102400.0 / 4000, 1e-9);
  EXPECT_NEAR(at512.backward_s, 204800.0 / 2000, 1e-9);
}

TEST(StageCompute, ContentionOnlyWhenWorkersOutnumberCores) {
  // One layer 10 -> 10 (not first), 10 rows: 2000 + 4000 FLOPs at 1000 FLOP/s = 2 + 4 s alone.
  const std::vector<StageLayer> layer{{10, 10, 1, false}};
  const auto time = [&](int workers, int cores) {
    const ComputeTime t = stage_compute_time(layer, 10, constant(1000), constant(1000), workers, cores);
    return std::array<double, 2>{t.forward_s, t.backward_s};
  };
  EXPECT_NEAR(time(4, 2)[0], 4.0, 1e-12);  // 4 workers on 2 cores: twice as long
  EXPECT_NEAR(time(4, 2)[1], 8.0, 1e-12);
  EXPECT_NEAR(time(3, 2)[0], 3.0, 1e-12);  // 1.5 x
  EXPECT_NEAR(time(2, 2)[0], 2.0, 1e-12);  // a core each: no change
  EXPECT_NEAR(time(2, 8)[0], 2.0, 1e-12);  // idle cores do not make a worker faster
  EXPECT_NEAR(time(2, 8)[1], 4.0, 1e-12);
  EXPECT_NEAR(time(16, 0)[0], 2.0, 1e-12);  // cores 0: no contention modelled (a GPU per worker)
}

TEST(StageCompute, PredictTimesEachMicroBatchAtItsOwnRows) {
  // 4-8-2, B 16 on one worker: 224 FLOPs per row (forward 96, backward 128). A measured table
  // where 2-row products run at half the rate of 16-row ones: m = 1 runs 16 rows at 1000 FLOP/s,
  // 3.584 s; m = 8 runs 8 x 2 rows at 500, 7.168 s; m = 4 runs 4 x 4 rows at 1000 - 500 (2/3)
  // (t = ln 2 / ln 8 = 1/3), 5.376 s. One rate for every shape would make all three 3.584 s.
  Machine machine;
  machine.name = "small-rows-slow";
  machine.flops_fp32 = machine.flops_mixed = 1000;
  machine.memory_bandwidth = 1e30;
  machine.intra_node = machine.inter_node = {0, 0};
  machine.workers_per_node = 1;
  machine.memory_bytes = 1e12;
  const RateTable table{{2, 16}, {500, 1000}};
  machine.gemm_fp32 = {table, table, table, table};
  Model model;
  model.widths = {4, 8, 2};
  model.batch = 16;
  const auto compute = [&](int m) { return predict(model, Layout{1, 1, 1, m}, machine).compute_s; };
  EXPECT_NEAR(compute(1), 3.584, 1e-9);
  EXPECT_NEAR(compute(4), 5.376, 1e-9);
  EXPECT_NEAR(compute(8), 7.168, 1e-9);
  EXPECT_GT(predict(model, Layout{1, 1, 1, 8}, machine).step_s,
            predict(model, Layout{1, 1, 1, 1}, machine).step_s);
}

}  // namespace
