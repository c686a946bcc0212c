// Chapter 05: the pipeline schedules. Their orders against the known ones for small p and m,
// their validity, and — simulated with unit times, no threads — that every stage's order fits
// together without deadlock, that the bubble is (p-1)/(m+p-1), and how many micro-batches'
// activations each stage holds (GPipe: m; 1F1B: at most p - s).
#include "ch05/schedule.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "ch05/pipeline_engine.hpp"

namespace ptt::ch05 {
namespace {

std::vector<Op> ops(const std::string& text) {  // "F0 F1 B0" -> ops
  std::vector<Op> out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    const bool f = text[i] == 'F';
    std::size_t end = text.find(' ', i);
    if (end == std::string::npos) end = text.size();
    out.push_back({f, std::stoi(text.substr(i + 1, end - i - 1))});
    i = end;
  }
  return out;
}

/// Discrete-event run of all stages' orders with forward time tf and backward time tb: each
/// stage runs its next op as soon as its input is there. Returns the makespan and each stage's
/// peak of stored micro-batches; fails the test on a deadlock.
struct Simulated {
  double makespan = 0;
  std::vector<int> peak;
};
Simulated simulate(Schedule s, int p, int m, double tf = 1.0, double tb = 2.0) {
  std::vector<std::vector<Op>> order;
  for (int k = 0; k < p; ++k) order.push_back(make_schedule(s, k, p, m));
  // done_f[k][j] / done_b[k][j]: when stage k finished F j / B j (negative: not yet).
  std::vector<std::vector<double>> done_f(p, std::vector<double>(m, -1)),
      done_b(p, std::vector<double>(m, -1));
  std::vector<std::size_t> next(p, 0);
  std::vector<double> free_at(p, 0.0);
  std::vector<int> stored(p, 0);
  Simulated out;
  out.peak.assign(p, 0);
  for (bool progress = true; progress;) {
    progress = false;
    for (int k = 0; k < p; ++k) {
      if (next[k] == order[k].size()) continue;
      const Op op = order[k][next[k]];
      double ready;
      if (op.forward)
        ready = k == 0 ? 0.0 : done_f[k - 1][op.micro];
      else
        ready = k == p - 1 ? done_f[k][op.micro] : done_b[k + 1][op.micro];
      if (ready < 0) continue;  // its input is not there yet
      const double start = std::max(ready, free_at[k]);
      free_at[k] = start + (op.forward ? tf : tb);
      (op.forward ? done_f : done_b)[k][op.micro] = free_at[k];
      stored[k] += op.forward ? 1 : -1;
      out.peak[k] = std::max(out.peak[k], stored[k]);
      out.makespan = std::max(out.makespan, free_at[k]);
      ++next[k];
      progress = true;
    }
  }
  for (int k = 0; k < p; ++k)
    EXPECT_EQ(next[k], order[k].size())
        << "deadlock: stage " << k << " stuck at op " << next[k] << " of " << to_string(order[k]);
  return out;
}

// --- TODO(05.1): the 1F1B order ---------------------------------------------------------------------

TEST(OneFOneB, KnownOrderFourStagesEightMicroBatches) {
  // As in Megatron-LM's non-interleaved schedule (Narayanan et al. 2021, fig. 4 top).
  EXPECT_EQ(to_string(one_f_one_b_schedule(0, 4, 8)), "F0 F1 F2 F3 B0 F4 B1 F5 B2 F6 B3 F7 B4 B5 B6 B7");
  EXPECT_EQ(to_string(one_f_one_b_schedule(1, 4, 8)), "F0 F1 F2 B0 F3 B1 F4 B2 F5 B3 F6 B4 F7 B5 B6 B7");
  EXPECT_EQ(to_string(one_f_one_b_schedule(2, 4, 8)), "F0 F1 B0 F2 B1 F3 B2 F4 B3 F5 B4 F6 B5 F7 B6 B7");
  EXPECT_EQ(to_string(one_f_one_b_schedule(3, 4, 8)), "F0 B0 F1 B1 F2 B2 F3 B3 F4 B4 F5 B5 F6 B6 F7 B7");
}

TEST(OneFOneB, KnownOrderFewerMicroBatchesThanStages) {
  // Warm-up is capped by m: with m = 2 on 4 stages, stage 0 runs both forwards first.
  EXPECT_EQ(to_string(one_f_one_b_schedule(0, 4, 2)), "F0 F1 B0 B1");
  EXPECT_EQ(to_string(one_f_one_b_schedule(3, 4, 2)), "F0 B0 F1 B1");
  EXPECT_EQ(to_string(one_f_one_b_schedule(0, 2, 1)), "F0 B0");
  EXPECT_EQ(to_string(one_f_one_b_schedule(0, 1, 3)), "F0 B0 F1 B1 F2 B2");
}

TEST(OneFOneB, ValidFeasibleAndHoldsAtMostStagesMinusStage) {
  for (int p = 1; p <= 6; ++p)
    for (int m = 1; m <= 17; ++m) {
      for (int s = 0; s < p; ++s) {
        const auto order = one_f_one_b_schedule(s, p, m);
        ASSERT_NO_THROW(validate_schedule(order, m)) << "p=" << p << " m=" << m << " stage " << s;
      }
      const Simulated sim = simulate(Schedule::OneFOneB, p, m);
      for (int s = 0; s < p; ++s)
        EXPECT_EQ(sim.peak[s], std::min(p - s, m)) << "p=" << p << " m=" << m << " stage " << s;
    }
}

TEST(OneFOneB, BubbleEqualsTheoryOnBalancedStages) {
  for (int p = 1; p <= 5; ++p)
    for (int m = 1; m <= 16; ++m) {
      const Simulated sim = simulate(Schedule::OneFOneB, p, m);
      // busy time per stage is m (tf + tb) = 3m; the bubble is the rest of the makespan
      const double bubble = 1.0 - 3.0 * m / sim.makespan;
      EXPECT_NEAR(bubble, double(p - 1) / double(m + p - 1), 1e-12) << "p=" << p << " m=" << m;
    }
}

// --- GPipe and the checks around the schedules (not part of the exercise) -------------------------

TEST(GPipe, KnownOrder) {
  EXPECT_EQ(to_string(gpipe_schedule(0, 3, 4)), "F0 F1 F2 F3 B3 B2 B1 B0");
  EXPECT_EQ(to_string(gpipe_schedule(2, 3, 1)), "F0 B0");
}

TEST(GPipe, FeasibleBubbleEqualsTheoryAndHoldsAllMicroBatches) {
  for (int p = 1; p <= 5; ++p)
    for (int m = 1; m <= 16; ++m) {
      const Simulated sim = simulate(Schedule::GPipe, p, m);
      EXPECT_NEAR(1.0 - 3.0 * m / sim.makespan, double(p - 1) / double(m + p - 1), 1e-12)
          << "p=" << p << " m=" << m;
      for (int s = 0; s < p; ++s) EXPECT_EQ(sim.peak[s], m);
    }
}

TEST(ValidateSchedule, RejectsMalformedOrders) {
  EXPECT_NO_THROW(validate_schedule(ops("F0 F1 B1 B0"), 2));
  EXPECT_THROW(validate_schedule(ops("B0 F0"), 1), std::logic_error);        // backward first
  EXPECT_THROW(validate_schedule(ops("F0 F0 B0"), 1), std::logic_error);     // twice
  EXPECT_THROW(validate_schedule(ops("F0 F1 B0"), 2), std::logic_error);     // B1 missing
  EXPECT_THROW(validate_schedule(ops("F0 B0 F1 B1"), 1), std::logic_error);  // micro-batch out of range
}

// Orders that are each valid but wait for each other are refused before any thread starts (a
// learner's wrong 1F1B then fails its tests at once instead of hanging them for the timeout).
TEST(ValidateSchedule, RejectsOrdersThatWaitForEachOther) {
  EXPECT_NO_THROW(validate_orders_fit({ops("F0 F1 B0 B1"), ops("F0 F1 B0 B1")}));  // GPipe
  EXPECT_NO_THROW(validate_orders_fit({ops("F0 F1 B0 B1"), ops("F0 B0 F1 B1")}));  // 1F1B
  EXPECT_NO_THROW(validate_orders_fit({ops("F0 B0 F1 B1")}));                      // one stage
  // Stage 0 waits at B0 for stage 1, which waits at F1 for stage 0.
  EXPECT_THROW(validate_orders_fit({ops("F0 B0 F1 B1"), ops("F0 F1 B0 B1")}), std::logic_error);
  // Three stages, the middle one's warm-up one short: it waits at B0 for the last stage, which
  // waits at F1 for it.
  EXPECT_THROW(validate_orders_fit({ops("F0 F1 B0 B1"), ops("F0 B0 F1 B1"), ops("F0 F1 B0 B1")}),
               std::logic_error);
  for (int p = 1; p <= 5; ++p)
    for (int m = 1; m <= 9; ++m) {
      std::vector<std::vector<Op>> gpipe;
      for (int s = 0; s < p; ++s) gpipe.push_back(gpipe_schedule(s, p, m));
      EXPECT_NO_THROW(validate_orders_fit(gpipe)) << p << " stages, " << m << " micro-batches";
    }
}

TEST(Schedule, NamesMapBothWays) {
  EXPECT_EQ(schedule_names().size(), 2u);
  EXPECT_EQ(schedule_names().at("gpipe"), Schedule::GPipe);
  EXPECT_EQ(schedule_names().at("1f1b"), Schedule::OneFOneB);
  for (const auto& [name, schedule] : schedule_names()) EXPECT_EQ(schedule_name(schedule), name);
}

}  // namespace
}  // namespace ptt::ch05
