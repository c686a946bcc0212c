// Chapter 08, TODO(08.1): the ring all-reduce's alpha-beta time (chapter 03) and the pipelined
// step (chapter 05), on hand-computed cases and on the published forms of the bubble.
#include "ch08/step_time.hpp"

#include <gtest/gtest.h>

namespace {

using ptt::ch08::Link;
using ptt::ch08::pipeline_step_time;
using ptt::ch08::ring_allreduce_bytes_per_rank;
using ptt::ch08::ring_allreduce_time;

TEST(RingAllreduce, BytesPerRankAre2PMinus1OverP) {
  // 2(p-1)/p N: 4 ranks send 1.5 N each, 2 ranks N, 8 ranks 1.75 N; one rank sends nothing.
  EXPECT_DOUBLE_EQ(ring_allreduce_bytes_per_rank(1000, 4), 1500);
  EXPECT_DOUBLE_EQ(ring_allreduce_bytes_per_rank(1000, 2), 1000);
  EXPECT_DOUBLE_EQ(ring_allreduce_bytes_per_rank(8e6, 8), 14e6);
  EXPECT_DOUBLE_EQ(ring_allreduce_bytes_per_rank(1000, 1), 0);
}

TEST(RingAllreduce, BytesApproach2NForLargeP) {
  // The ring is bandwidth-optimal: the bytes per rank grow to 2N, never beyond (chapter 03).
  for (int p : {2, 3, 5, 16, 64, 1024}) {
    const double b = ring_allreduce_bytes_per_rank(1e6, p);
    EXPECT_NEAR(b, 2e6 * (p - 1) / p, 1e-6) << "p " << p;
    EXPECT_LT(b, 2e6) << "p " << p;
  }
}

TEST(RingAllreduce, TimeHandComputed) {
  // p = 4, alpha 1 us, beta 1 ns/byte, 1 MB: 6 messages of latency, 1.5 MB at 1 GB/s.
  EXPECT_NEAR(ring_allreduce_time(1e6, 4, Link{1e-6, 1e-9}), 6e-6 + 1.5e-3, 1e-15);
  // Two ranks: 2 messages, N bytes.
  EXPECT_NEAR(ring_allreduce_time(1e6, 2, Link{1e-6, 1e-9}), 2e-6 + 1e-3, 1e-15);
  // One rank: free, whatever the link.
  EXPECT_EQ(ring_allreduce_time(1e6, 1, Link{1e-6, 1e-9}), 0.0);
}

TEST(RingAllreduce, LatencyTermCountsEveryStep) {
  // beta = 0 leaves the latency alone: 2(p-1) messages, one per step of both halves.
  EXPECT_DOUBLE_EQ(ring_allreduce_time(123, 8, Link{1.0, 0.0}), 14.0);
  EXPECT_DOUBLE_EQ(ring_allreduce_time(123, 3, Link{0.5, 0.0}), 2.0);
}

TEST(RingAllreduce, MatchesChapter03Formula) {
  // Chapter 03: T = 2(p-1) alpha + 2 (p-1)/p * 4n / B for n floats at B bytes/s.
  const double alpha = 0.18e-6, bandwidth = 7.1e9, n = 4e6;
  for (int p : {2, 3, 4, 8}) {
    const double want = 2.0 * (p - 1) * alpha + 2.0 * (p - 1) / p * 4 * n / bandwidth;
    EXPECT_NEAR(ring_allreduce_time(4 * n, p, Link{alpha, 1 / bandwidth}), want, 1e-12 * want) << "p " << p;
  }
}

TEST(PipelineStep, GpipeHandComputed) {
  // p = 4, m = 8, t_f 1, t_b 2: (8 + 3) * 3 = 33.
  EXPECT_DOUBLE_EQ(pipeline_step_time(1, 2, 4, 8), 33);
  // One stage: no bubble, m (t_f + t_b).
  EXPECT_DOUBLE_EQ(pipeline_step_time(1, 2, 1, 8), 24);
  // One micro-batch on p stages: the stages take turns, p (t_f + t_b).
  EXPECT_DOUBLE_EQ(pipeline_step_time(1, 2, 4, 1), 12);
}

TEST(PipelineStep, BubbleIsPMinus1OverMPlusPMinus1OfTheStep) {
  // GPipe's and 1F1B's bubble (Huang et al. 2019; chapter 05): (p-1)/(m+p-1) of the step,
  // (p-1)/m of the ideal m (t_f + t_b).
  for (int p = 1; p <= 8; ++p)
    for (int m : {1, 2, 3, 4, 8, 16, 64}) {
      const double ideal = m * (0.7 + 1.3), step = pipeline_step_time(0.7, 1.3, p, m);
      EXPECT_NEAR((step - ideal) / step, (p - 1.0) / (m + p - 1.0), 1e-12) << "p " << p << " m " << m;
      EXPECT_NEAR((step - ideal) / ideal, (p - 1.0) / m, 1e-12) << "p " << p << " m " << m;
    }
}

TEST(PipelineStep, InterleavedBubbleIsPMinus1OverVM) {
  // Interleaved 1F1B with v chunks per worker (Narayanan et al. 2021): (p-1)/(v m) of the ideal.
  EXPECT_DOUBLE_EQ(pipeline_step_time(1, 2, 4, 8, 2), 28.5);
  for (int p : {2, 4, 8})
    for (int v : {1, 2, 4})
      for (int m : {4, 8, 32}) {
        const double ideal = m * 3.0, step = pipeline_step_time(1, 2, p, m, v);
        EXPECT_NEAR((step - ideal) / ideal, (p - 1.0) / (v * m), 1e-12)
            << "p " << p << " v " << v << " m " << m;
      }
}

}  // namespace
