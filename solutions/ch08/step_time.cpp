// Chapter 08 solution: the ring all-reduce's alpha-beta time (chapter 03) and the pipelined
// step (chapter 05). The math is in contracts/ch08/step_time.hpp.
#include "ch08/step_time.hpp"

#include "ptt/error.hpp"

namespace ptt::ch08 {

double ring_allreduce_bytes_per_rank(double bytes, int p) {
  PTT_CHECK(p >= 1, "ranks must be positive");
  // 2(p-1) steps (reduce-scatter, then all-gather), one segment of bytes/p each.
  return 2.0 * (p - 1) / p * bytes;
}

double ring_allreduce_time(double bytes, int p, Link link) {
  PTT_CHECK(p >= 1, "ranks must be positive");
  // Every step is one message: its latency once, its bytes at the link's rate.
  return 2.0 * (p - 1) * link.alpha_s + ring_allreduce_bytes_per_rank(bytes, p) * link.beta_s_per_byte;
}

double pipeline_step_time(double t_fwd, double t_bwd, int p, int m, int v) {
  PTT_CHECK(p >= 1 && m >= 1 && v >= 1, "stages, micro-batches and chunks must be positive");
  // m micro-batches of work, plus the fill and the drain: p-1 stage times, v times shorter when
  // each worker holds v chunks.
  return (m + static_cast<double>(p - 1) / v) * (t_fwd + t_bwd);
}

}  // namespace ptt::ch08
