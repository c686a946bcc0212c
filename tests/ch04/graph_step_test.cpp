// Chapter 04's step launch policy (exercise 04.5, contracts/ch04/graph_step.hpp): when a training
// step runs eagerly, when it is captured into a CUDA graph, when the graph is replayed. Plain host
// code, so it runs everywhere; built against the solution (ch04_tests, ch04_emulator_tests) and the
// exercise (ch04_tests_exercise, ch04_emulator_tests_exercise). The trainer's own use of it is
// tested end to end by the orchestration tests (a graph captured once, every full batch after the
// first replayed).
//
// What they prove:
//   - every one of the 32 states (graphs on or off, a full or a short batch, warmed up or not,
//     captured or not) gets the launch the contract gives it;
//   - over epochs whose last batch is short, driven the way DeviceTrainer::step drives it, the step
//     is captured exactly once, on the second full batch, every later full batch replays, and every
//     short batch and the first full one run eagerly.
#include "ch04/graph_step.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using ptt::ch04::step_launch;
using ptt::ch04::StepLaunch;
using ptt::ch04::StepState;

std::string name(StepLaunch l) {
  switch (l) {
    case StepLaunch::eager:
      return "eager";
    case StepLaunch::capture:
      return "capture";
    case StepLaunch::replay:
      return "replay";
  }
  return "not a StepLaunch (" + std::to_string(static_cast<int>(l)) + ")";
}

// The contract's rules, written out state by state.
StepLaunch expected(bool enabled, bool full, bool warmed_up, bool captured) {
  if (!enabled || !full || !warmed_up) return StepLaunch::eager;
  return captured ? StepLaunch::replay : StepLaunch::capture;
}

TEST(GraphStep, EveryStateGetsTheContractsLaunch) {
  for (const bool enabled : {false, true})
    for (const bool full : {false, true})
      for (const bool warmed_up : {false, true})
        for (const bool captured : {false, true})
          for (const int max_batch : {1, 128}) {
            if (!full && max_batch == 1) continue;  // a batch of 1 is always full
            const StepState s{.graph_enabled = enabled,
                              .rows = full ? max_batch : max_batch - 27,
                              .max_batch = max_batch,
                              .warmed_up = warmed_up,
                              .captured = captured};
            EXPECT_EQ(name(step_launch(s)), name(expected(enabled, full, warmed_up, captured)))
                << "graphs " << (enabled ? "on" : "off") << ", rows " << s.rows << " of " << max_batch
                << ", warmed up " << warmed_up << ", captured " << captured;
          }
}

TEST(GraphStep, ShortBatchNeverUsesTheGraphEvenOnceCaptured) {
  const StepState s{
      .graph_enabled = true, .rows = 127, .max_batch = 128, .warmed_up = true, .captured = true};
  EXPECT_EQ(name(step_launch(s)), "eager");
  StepState full = s;
  full.rows = 128;
  EXPECT_EQ(name(step_launch(full)), "replay");
}

// Drives step_launch as DeviceTrainer::step does: an eager full step sets warmed_up, a capture sets
// captured. Counts what happened over `epochs` epochs of `full` full batches and one short one.
struct Counts {
  int eager = 0, capture = 0, replay = 0;
  int first_capture_step = -1;  ///< 0-based step of the capture
};
Counts drive(bool enabled, int epochs, int full) {
  constexpr int kMax = 64;
  StepState s{
      .graph_enabled = enabled, .rows = kMax, .max_batch = kMax, .warmed_up = false, .captured = false};
  Counts c;
  int step = 0;
  for (int e = 0; e < epochs; ++e)
    for (int b = 0; b <= full; ++b, ++step) {
      s.rows = b < full ? kMax : 10;
      switch (step_launch(s)) {
        case StepLaunch::eager:
          ++c.eager;
          if (s.rows == kMax) s.warmed_up = true;
          break;
        case StepLaunch::capture:
          ++c.capture;
          if (c.first_capture_step < 0) c.first_capture_step = step;
          s.captured = true;
          break;
        case StepLaunch::replay:
          EXPECT_TRUE(s.captured) << "step " << step << " replays a graph that was never captured";
          ++c.replay;
          break;
      }
    }
  return c;
}

TEST(GraphStep, EpochsCaptureOnceAfterTheWarmUpAndReplayTheRest) {
  const Counts c = drive(true, 3, 5);  // 3 epochs of 5 full batches and 1 short one
  EXPECT_EQ(c.capture, 1) << "the step is recorded once";
  EXPECT_EQ(c.first_capture_step, 1) << "on the second full batch, after one eager warm-up";
  EXPECT_EQ(c.eager, 1 + 3) << "the warm-up and the 3 short batches";
  EXPECT_EQ(c.replay, 3 * 5 - 2) << "every other full batch";
}

TEST(GraphStep, GraphsOffRunEveryStepEagerlyWhileOnUsesThem) {
  const Counts off = drive(false, 2, 4);
  EXPECT_EQ(off.eager, 2 * 5);
  EXPECT_EQ(off.capture + off.replay, 0);
  const Counts on = drive(true, 2, 4);
  EXPECT_GT(on.replay, 0) << "with graphs on, full batches replay the graph";
}

}  // namespace
