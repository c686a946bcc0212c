// Chapter 08 exercise: the ring all-reduce's time and the pipelined step (see
// contracts/ch08/step_time.hpp for the formulas and where they come from).
// Fill in TODO(08.1). Check your work with:  ./tutorial check 08
#include "ch08/step_time.hpp"

namespace ptt::ch08 {

double ring_allreduce_bytes_per_rank(double bytes, int p) {
  // TODO(08.1): the bytes ONE rank sends in a ring all-reduce of `bytes` over p ranks: a
  //   reduce-scatter and an all-gather, each of p-1 steps of one segment (bytes / p).
  //   One rank sends nothing.
  (void)bytes, (void)p;
  return 0.0;
}

double ring_allreduce_time(double bytes, int p, Link link) {
  // TODO(08.1): the alpha-beta time of that ring: every step is one message, which pays
  //   link.alpha_s once, and every byte a rank sends costs link.beta_s_per_byte.
  (void)bytes, (void)p, (void)link;
  return 0.0;
}

double pipeline_step_time(double t_fwd, double t_bwd, int p, int m, int v) {
  // TODO(08.1): one step of m micro-batches on p stages: m times (t_fwd + t_bwd) of work plus
  //   the fill and drain (how many stage times does the first stage wait?), which v chunks per
  //   worker make v times shorter. With p = 1 there is no bubble.
  (void)t_fwd, (void)t_bwd, (void)p, (void)m, (void)v;
  return 0.0;
}

}  // namespace ptt::ch08
