// Chapter 08's cost model on small hand-computed cases: each term of predict() against the
// arithmetic of the formula it comes from, on a machine of round numbers.
#include "ch08/cost_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace {

using namespace ptt::ch08;

// 1000 FLOP/s in fp32, 2000 in 16-bit; a memory so fast that the update costs nothing; links of
// round numbers; 8 workers per node.
Machine round_machine() {
  Machine m;
  m.name = "round";
  m.flops_fp32 = 1000;
  m.flops_mixed = 2000;
  m.memory_bandwidth = 1e30;
  m.intra_node = {0.1, 0.01};
  m.inter_node = {1.0, 0.1};
  m.workers_per_node = 8;
  m.memory_bytes = 1e12;
  return m;
}

Model small(std::vector<int> widths, double batch) {
  Model model;
  model.widths = std::move(widths);
  model.batch = batch;
  return model;
}

Layout grid(int dp, int pp, int tp, int m, Schedule schedule = Schedule::gpipe, int zero = 0) {
  return Layout{dp, pp, tp, m, schedule, zero};
}

TEST(CostModel, SerialIsTheFlopsOfForwardAndBackward) {
  // 4-8-2, B 10: forward 2 B (32 + 16) = 960 flops; backward 2 B 32 (first layer: no dX) +
  // 4 B 16 = 1280. 2240 flops at 1000 FLOP/s.
  const Prediction p = predict(small({4, 8, 2}, 10), grid(1, 1, 1, 1), round_machine());
  ASSERT_TRUE(p.invalid.empty()) << p.invalid;
  EXPECT_NEAR(p.compute_s, 2.24, 1e-12);
  EXPECT_NEAR(p.step_s, 2.24, 1e-12);
  EXPECT_EQ(p.tp_comm_s + p.pp_comm_s + p.dp_comm_s + p.bubble_s, 0.0);
  EXPECT_NEAR(p.samples_per_s, 10 / 2.24, 1e-9);
}

TEST(CostModel, MixedPrecisionUsesThe16BitRate) {
  EXPECT_NEAR(predict(
                  [] {
                    auto m = small({4, 8, 2}, 10);
                    m.precision = Precision::mixed;
                    return m;
                  }(),
                  grid(1, 1, 1, 1), round_machine())
                  .compute_s,
              1.12, 1e-12);
}

TEST(CostModel, DataParallelRingOverlapsTheBackward) {
  // dp 2: 5 rows each, compute 1.12 s, of which backward 0.64 s. Psi = 40 + 18 = 58 floats,
  // 232 bytes: ring over 2 inside a node = 2 (0.1) + 232 (0.01) = 2.52 s, 0.64 s of it hidden.
  const Prediction p = predict(small({4, 8, 2}, 10), grid(2, 1, 1, 1), round_machine());
  EXPECT_NEAR(p.compute_s, 1.12, 1e-12);
  EXPECT_NEAR(p.dp_comm_s, 2.52, 1e-12);
  EXPECT_NEAR(p.dp_exposed_s, 2.52 - 0.64, 1e-12);
  EXPECT_NEAR(p.step_s, 3.0, 1e-12);
}

TEST(CostModel, DataParallelAcrossNodesUsesTheInterNodeLink) {
  // One worker per node: the ring runs on the inter-node link, 2 (1) + 232 (0.1) = 25.2 s.
  Machine machine = round_machine();
  machine.workers_per_node = 1;
  const Prediction p = predict(small({4, 8, 2}, 10), grid(2, 1, 1, 1), machine);
  EXPECT_NEAR(p.dp_comm_s, 25.2, 1e-12);
  EXPECT_NEAR(p.step_s, 1.12 + 25.2 - 0.64, 1e-12);
}

TEST(CostModel, ZeroStage3MovesHalfAgainTheBytes) {
  // The ZeRO paper: stage 3 all-gathers the parameters as well, 3 Psi instead of 2 Psi.
  const Prediction p = predict(small({4, 8, 2}, 10), grid(2, 1, 1, 1, Schedule::gpipe, 3), round_machine());
  EXPECT_NEAR(p.dp_comm_s, 1.5 * 2.52, 1e-12);
}

TEST(CostModel, TensorParallelHandComputed) {
  // 4-8-8-2 on tp 2, B 10: layer 1 column-split (32 weights), layer 2 row-split (64), layer 3
  // replicated (16). Forward 2 B (32/2 + 64/2 + 16) = 1280 flops, backward 2 B 32/2 +
  // 4 B (64/2 + 16) = 2240: 3.52 s. One all-reduce forward (layer 2's output, 10 x 8 floats =
  // 320 bytes: 0.2 + 3.2 s); none backward (layer 1 is the network's first: no input gradient).
  const Prediction p = predict(small({4, 8, 8, 2}, 10), grid(1, 1, 2, 1), round_machine());
  ASSERT_TRUE(p.invalid.empty()) << p.invalid;
  EXPECT_NEAR(p.compute_s, 3.52, 1e-12);
  EXPECT_NEAR(p.tp_comm_s, 3.4, 1e-12);
  EXPECT_NEAR(p.step_s, 6.92, 1e-12);
  // Chapter 06's Psi_r: (32 + 8)/2 + (64/2 + 8) + (16 + 2) = 78 floats, 12 bytes each (SGD);
  // activations: input 4, layer 1's half 4, layer 2's 8, layer 3's 2 = 18 floats per row.
  EXPECT_NEAR(p.memory.total(), 78 * 12 + 10 * 18 * 4, 1e-9);
}

TEST(CostModel, PipelineBubbleOfUnequalStages) {
  // 4-8-8-2 on 3 stages (one layer each), m 2, B 10 (5 rows), free links. Stage times per
  // micro-batch: 0.32 + 0.32, 0.64 + 1.28, 0.16 + 0.32 s: the middle one (1.92 s) runs both
  // micro-batches back to back (3.84 s), and the fill and the drain pass once through each
  // other stage at its own speed, 0.64 + 0.48 s: 4.96 s. Equal stages of 1.92 s would give
  // (m + p - 1) 1.92 = 7.68 s; each faster stage gives its slack back (1.28 + 1.44 s).
  Machine machine = round_machine();
  machine.intra_node = machine.inter_node = {0, 0};
  const Prediction p = predict(small({4, 8, 8, 2}, 10), grid(1, 3, 1, 2), machine);
  ASSERT_TRUE(p.invalid.empty()) << p.invalid;
  EXPECT_NEAR(p.compute_s, 3.84, 1e-12);
  EXPECT_NEAR(p.bubble_s, 0.64 + 0.48, 1e-12);
  EXPECT_NEAR(p.step_s, 4.96, 1e-12);
  EXPECT_NEAR(p.step_s, 4 * 1.92 - (1.92 - 0.64) - (1.92 - 0.48), 1e-12);
}

TEST(CostModel, PipelineFillAndDrainRunAtEachStagesOwnSpeed) {
  // 8-8-8 on 2 stages, B 8, m 4 (2 rows), free links. Stage 0 holds the first layer (no dX):
  // 256 + 256 FLOPs per micro-batch, 0.512 s; stage 1 256 + 512, 0.768 s. The slow stage runs
  // its 4 micro-batches back to back, and the fast one adds its own time once: 3.584 s, a bubble
  // of 0.512 s where (p - 1) t_slowest would say 0.768 s.
  Machine machine = round_machine();
  machine.intra_node = machine.inter_node = {0, 0};
  const Prediction p = predict(small({8, 8, 8}, 8), grid(1, 2, 1, 4), machine);
  ASSERT_TRUE(p.invalid.empty()) << p.invalid;
  EXPECT_NEAR(p.compute_s, 4 * 0.768, 1e-12);
  EXPECT_NEAR(p.bubble_s, 0.512, 1e-12);
  EXPECT_NEAR(p.step_s, 3 * 0.768 + 0.512 + 0.768, 1e-12);
}

TEST(CostModel, PipelineSendsAtTheBoundaries) {
  // Same pipeline on the intra-node link: the middle stage sends 5 x 8 floats forward (160 bytes)
  // and 160 bytes back, 0.1 + 1.6 s each, per micro-batch.
  const Prediction p = predict(small({4, 8, 8, 2}, 10), grid(1, 3, 1, 2), round_machine());
  EXPECT_NEAR(p.pp_comm_s, 2 * 2 * 1.7, 1e-12);
}

TEST(CostModel, OneFOneBHoldsFewerMicroBatches) {
  // m 4 on 3 stages, B 10 (2.5 rows): GPipe holds 4 micro-batches, 1F1B min(p - s, m). The
  // middle stage needs the most (72 floats of parameters, 16 activation floats per row):
  // GPipe 4 x 2.5 x 16 x 4 = 640 bytes, 1F1B 2 x 2.5 x 16 x 4 = 320 bytes.
  const Model model = small({4, 8, 8, 2}, 10);
  const Prediction gpipe = predict(model, grid(1, 3, 1, 4), round_machine());
  const Prediction f1b1 = predict(model, grid(1, 3, 1, 4, Schedule::one_f_one_b), round_machine());
  EXPECT_NEAR(gpipe.memory.activations, 640, 1e-9);
  EXPECT_NEAR(f1b1.memory.activations, 320, 1e-9);
  EXPECT_NEAR(gpipe.memory.params, 72 * 4, 1e-9);
  EXPECT_EQ(gpipe.step_s, f1b1.step_s);  // the same bubble
}

TEST(CostModel, MoreWorkersThanCoresShareThem) {
  // dp 4 on a node of 2 cores, B 10 (2.5 rows): compute 0.56 s alone (backward 0.32); the ring
  // over 4 of 232 bytes, 6 (0.1) + 1.5 (232) (0.01) = 4.08 s, not hidden (no spare core). Each
  // worker needs 4.64 s of a core, all four all the time: 4 busy workers on 2 cores, every term
  // twice as long, and the step is the node's 4 x 4.64 core-seconds over its 2 cores.
  Machine machine = round_machine();
  machine.cores_per_node = 2;
  const Prediction p = predict(small({4, 8, 2}, 10), grid(4, 1, 1, 1), machine);
  EXPECT_NEAR(p.busy_workers, 4.0, 1e-12);
  EXPECT_NEAR(p.compute_s, 2 * 0.56, 1e-12);
  EXPECT_NEAR(p.dp_comm_s, 2 * 4.08, 1e-12);
  EXPECT_NEAR(p.dp_exposed_s, p.dp_comm_s, 1e-12);
  EXPECT_NEAR(p.step_s, 4 * 4.64 / 2, 1e-12);
  EXPECT_FALSE(p.crowded_link);  // no oversubscribed_link: the messages stretch with the rest
}

TEST(CostModel, ACrowdedNodeTakesItsMeasuredLinkUnstretched) {
  // MoreWorkersThanCoresShareThem with a link measured on 4 ranks sharing the 2 cores
  // (alpha 0.3 s, 0.02 s per byte): the ring over 4 of 232 bytes is 6 (0.3) + 1.5 (232) (0.02)
  // = 8.76 s, taken as measured: its time already holds the shared cores, so only the compute
  // stretches (2 x 0.56 s). With 2 workers the node is not crowded and the link is not used.
  Machine machine = round_machine();
  machine.cores_per_node = 2;
  machine.oversubscribed_link = Link{0.3, 0.02};
  const Prediction p = predict(small({4, 8, 2}, 10), grid(4, 1, 1, 1), machine);
  EXPECT_NEAR(p.busy_workers, 4.0, 1e-12);
  EXPECT_NEAR(p.compute_s, 2 * 0.56, 1e-12);
  EXPECT_NEAR(p.dp_comm_s, 8.76, 1e-12);
  EXPECT_NEAR(p.step_s, 2 * 0.56 + 8.76, 1e-12);
  EXPECT_TRUE(p.crowded_link);
  // Its tp and pp messages too: dp 1 x pp 2 x tp 2 of 4-8-8-2 (8 rows) all-reduces the row-split
  // layer's 8 x 8 outputs over 2 ranks, 2 (0.3) + 256 (0.02), and sends the boundary's 256 bytes,
  // 0.3 + 256 (0.02), both over it.
  const Prediction grid4 = predict(small({4, 8, 8, 2}, 8), grid(1, 2, 2, 1), machine);
  EXPECT_TRUE(grid4.crowded_link);
  EXPECT_NEAR(grid4.tp_comm_s, 2 * 0.3 + 8 * 8 * 4 * 0.02, 1e-12);
  EXPECT_NEAR(grid4.pp_comm_s, 0.3 + 8 * 8 * 4 * 0.02, 1e-12);
  const Prediction two = predict(small({4, 8, 2}, 10), grid(2, 1, 1, 1), machine);
  EXPECT_NEAR(two.dp_comm_s, 2.52, 1e-12);
  EXPECT_FALSE(two.crowded_link);
}

TEST(CostModel, OverlapNeedsASpareCore) {
  // dp 2 as in DataParallelRingOverlapsTheBackward, on CPU nodes: with 2 cores both run a worker
  // and nothing progresses the all-reduce during the backward, so all 2.52 s are exposed; with
  // 4 cores a spare one moves it and the backward hides 0.64 s of it again. Neither node is
  // oversubscribed: no term stretches.
  Machine machine = round_machine();
  machine.cores_per_node = 2;
  const Prediction full = predict(small({4, 8, 2}, 10), grid(2, 1, 1, 1), machine);
  EXPECT_NEAR(full.dp_exposed_s, 2.52, 1e-12);
  EXPECT_NEAR(full.step_s, 1.12 + 2.52, 1e-12);
  EXPECT_NEAR(full.busy_workers, 2.0, 1e-12);
  machine.cores_per_node = 4;
  const Prediction spare = predict(small({4, 8, 2}, 10), grid(2, 1, 1, 1), machine);
  EXPECT_NEAR(spare.dp_exposed_s, 2.52 - 0.64, 1e-12);
  EXPECT_NEAR(spare.step_s, 3.0, 1e-12);
}

TEST(CostModel, PipelineWorkersIdleInTheBubbleLeaveTheirCores) {
  // dp 2 x pp 3 (6 workers), 4-8-8-2, m 2, B 10: 2.5 rows per micro-batch, free links. Stage
  // times per micro-batch 0.32, 0.96, 0.24 s: the critical path is 0.96 + (0.32 + 0.96 + 0.24)
  // = 2.48 s. The workers need 2 x 2 x (0.32 + 0.96 + 0.24) = 6.08 core-seconds per step, so on
  // average 6.08 / 2.48 = 2.45 of them want a core: on 4 cores nothing stretches (counting
  // workers, 6 on 4 cores, would add half); on 2 cores, and on 1, the step is the node's 6.08
  // core-seconds over its cores.
  Machine machine = round_machine();
  machine.intra_node = machine.inter_node = {0, 0};
  machine.cores_per_node = 4;
  const Prediction four = predict(small({4, 8, 8, 2}, 10), grid(2, 3, 1, 2), machine);
  ASSERT_TRUE(four.invalid.empty()) << four.invalid;
  EXPECT_NEAR(four.busy_workers, 6.08 / 2.48, 1e-12);
  EXPECT_NEAR(four.step_s, 2.48, 1e-12);
  machine.cores_per_node = 2;
  EXPECT_NEAR(predict(small({4, 8, 8, 2}, 10), grid(2, 3, 1, 2), machine).step_s, 6.08 / 2, 1e-12);
  machine.cores_per_node = 1;
  const Prediction one = predict(small({4, 8, 8, 2}, 10), grid(2, 3, 1, 2), machine);
  EXPECT_NEAR(one.step_s, 6.08, 1e-12);
  EXPECT_NEAR(one.bubble_s / one.step_s, (2.48 - 1.92) / 2.48, 1e-12);  // the bubble stretches with the rest
}

// A measured table of constant rates: `alone` FLOP/s for a worker alone on its node, `busy` when
// it shares the node.
GemmTable constant_table(double alone, double busy) {
  return {{{8}, {alone}}, {{8}, {alone}}, {{8}, {busy}}, {{8}, {busy}}};
}

TEST(CostModel, MeasuredTableBusyColumnWhenWorkersShareTheNode) {
  // 4-8-2, B 10: 2240 FLOPs serial. Alone at 1000 FLOP/s: 2.24 s. dp 2 on one node of 8: each
  // worker's 1120 FLOPs at the busy rate, 500 FLOP/s: 2.24 s, where flops_fp32 would give 1.12.
  Machine machine = round_machine();
  machine.gemm_fp32 = constant_table(1000, 500);
  machine.flops_fp32 = 1e9;  // ignored: the table times the products
  EXPECT_NEAR(predict(small({4, 8, 2}, 10), grid(1, 1, 1, 1), machine).compute_s, 2.24, 1e-12);
  EXPECT_NEAR(predict(small({4, 8, 2}, 10), grid(2, 1, 1, 1), machine).compute_s, 2.24, 1e-12);
  // One worker per node: alone again, 1.12 s.
  machine.workers_per_node = 1;
  EXPECT_NEAR(predict(small({4, 8, 2}, 10), grid(2, 1, 1, 1), machine).compute_s, 1.12, 1e-12);
}

TEST(CostModel, MixedPrecisionScalesTheMeasuredTable) {
  // The table is fp32; mixed precision scales it by flops_mixed / flops_fp32 = 2: 1.12 s.
  Machine machine = round_machine();
  machine.gemm_fp32 = constant_table(1000, 1000);
  Model model = small({4, 8, 2}, 10);
  model.precision = Precision::mixed;
  EXPECT_NEAR(predict(model, grid(1, 1, 1, 1), machine).compute_s, 1.12, 1e-12);
}

TEST(CostModel, LayoutsThatCannotRunAreInvalid) {
  const Model model = small({4, 8, 8, 2}, 10);
  EXPECT_NE(predict(model, grid(1, 1, 3, 1), round_machine()).invalid, "");   // 3 does not divide 8
  EXPECT_NE(predict(model, grid(1, 4, 1, 1), round_machine()).invalid, "");   // 4 stages, 3 layers
  EXPECT_NE(predict(model, grid(1, 3, 2, 1), round_machine()).invalid, "");   // 3 stages, 2 pairs
  EXPECT_NE(predict(model, grid(1, 1, 1, 16), round_machine()).invalid, "");  // 16 micro-batches of 10 rows
  EXPECT_EQ(predict(model, grid(1, 2, 2, 2), round_machine()).invalid, "");
}

TEST(CostModel, TermsAddUpToTheStepOnEveryLayout) {
  // The split the planner prints is the whole step: compute + tp + pp + bubble + exposed dp +
  // update, every term non-negative and the exposed part no more than the all-reduce; over every
  // grid of 16 workers of a 4-layer network, with both schedules and all ZeRO stages.
  Model model = small({784, 512, 512, 512, 10}, 256);
  model.optimizer_k = 2;
  Machine machine = round_machine();
  machine.memory_bandwidth = 1e4;
  int checked = 0;
  for (int dp : {1, 2, 4, 8, 16})
    for (int pp : {1, 2, 4})
      for (int m : {1, 2, 8})
        for (int zero = 0; zero <= 3; ++zero)
          for (Schedule schedule : {Schedule::gpipe, Schedule::one_f_one_b}) {
            if (16 % (dp * pp) != 0) continue;
            const Layout layout = grid(dp, pp, 16 / (dp * pp), m, schedule, zero);
            const Prediction p = predict(model, layout, machine);
            if (!p.invalid.empty()) continue;
            const double sum =
                p.compute_s + p.tp_comm_s + p.pp_comm_s + p.bubble_s + p.dp_exposed_s + p.update_s;
            EXPECT_NEAR(sum, p.step_s, 1e-12 * p.step_s) << layout.describe();
            for (double term :
                 {p.compute_s, p.tp_comm_s, p.pp_comm_s, p.bubble_s, p.dp_exposed_s, p.update_s})
              EXPECT_GE(term, 0.0) << layout.describe();
            EXPECT_LE(p.dp_exposed_s, p.dp_comm_s) << layout.describe();
            ++checked;
          }
  EXPECT_GT(checked, 50);
}

TEST(Placement, ACrowdedNodeKeepsPipelinesTogetherAndSpreadsTpGroups) {
  // 4 workers on 2 cores. Ranks r = (d pp + s) tp + t (chapter 06).
  Machine machine = round_machine();
  machine.cores_per_node = 2;
  // pp 2 x tp 2: ranks 0, 1 are stage 0 (tp 0, 1), ranks 2, 3 stage 1. Each tp group spans both
  // cores, and each pipeline (tp 0: ranks 0 and 2; tp 1: ranks 1 and 3) shares one.
  EXPECT_EQ(place_on_cores(grid(1, 2, 2, 4), machine), (std::vector<int>{0, 1, 0, 1}));
  // dp 2 x pp 2: ranks 0, 1 are replica 0's two stages, ranks 2, 3 replica 1's.
  EXPECT_EQ(place_on_cores(grid(2, 2, 1, 4), machine), (std::vector<int>{0, 0, 1, 1}));
  // dp 2 x tp 2: the tp pairs (0, 1) and (2, 3) split over the cores.
  EXPECT_EQ(place_on_cores(grid(2, 1, 2, 1), machine), (std::vector<int>{0, 1, 0, 1}));
  // dp 4: neighbours on the ring share a core.
  EXPECT_EQ(place_on_cores(grid(4, 1, 1, 1), machine), (std::vector<int>{0, 0, 1, 1}));
  // Every core gets the same number of workers: 8 on 3 cores, 3 + 3 + 2.
  machine.cores_per_node = 3;
  const std::vector<int> eight = place_on_cores(grid(2, 2, 2, 2), machine);
  ASSERT_EQ(eight.size(), 8u);
  EXPECT_EQ(std::count(eight.begin(), eight.end(), 0), 3);
  EXPECT_EQ(std::count(eight.begin(), eight.end(), 1), 3);
  EXPECT_EQ(std::count(eight.begin(), eight.end(), 2), 2);
}

TEST(Placement, OnlyACrowdedNodeIsPlaced) {
  Machine machine = round_machine();
  EXPECT_TRUE(place_on_cores(grid(4, 1, 1, 1), machine).empty());  // cores_per_node 0: a GPU each
  machine.cores_per_node = 4;
  EXPECT_TRUE(place_on_cores(grid(2, 1, 2, 1), machine).empty());  // one worker per core
  // 16 workers, 8 per node, 4 cores: each node's 8 are placed on its own cores 0-3, two each.
  const std::vector<int> two_nodes = place_on_cores(grid(2, 2, 4, 2), machine);
  ASSERT_EQ(two_nodes.size(), 16u);
  for (int node = 0; node < 2; ++node)
    for (int c = 0; c < 4; ++c)
      EXPECT_EQ(std::count(two_nodes.begin() + 8 * node, two_nodes.begin() + 8 * node + 8, c), 2);
}

TEST(Partition, BalancesMultiplyAdds) {
  // 784-8192-8192-8192-10: layer costs 6.4M, 67M, 67M, 0.08M multiply-adds.
  EXPECT_EQ(partition_stages({784, 8192, 8192, 8192, 10}, 2, 1), (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(partition_stages({784, 8192, 8192, 8192, 10}, 4, 1), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(partition_stages({784, 8192, 8192, 8192, 10}, 2, 2), (std::vector<int>{0, 2, 4}));
  EXPECT_TRUE(partition_stages({784, 8192, 8192, 8192, 10}, 3, 2).empty());  // 2 pairs
  EXPECT_EQ(partition_stages({4, 8, 8, 2}, 2, 2),
            (std::vector<int>{0, 2, 3}));  // a pair, then the last layer
}

}  // namespace
