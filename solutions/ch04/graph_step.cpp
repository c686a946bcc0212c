// graph_step.cpp — SOLUTION (chapter 04, TODO(04.5)): how each training step is launched, eagerly or
// from a CUDA graph. The rules and why: contracts/ch04/graph_step.hpp.
#include "ch04/graph_step.hpp"

namespace ptt::ch04 {

StepLaunch step_launch(const StepState& s) {
  if (!s.graph_enabled) return StepLaunch::eager;
  if (s.rows != s.max_batch) return StepLaunch::eager;  // other arguments: the recording does not fit
  if (!s.warmed_up) return StepLaunch::eager;           // libraries initialise outside a capture
  if (!s.captured) return StepLaunch::capture;          // record once...
  return StepLaunch::replay;                            // ...then one launch per step
}

}  // namespace ptt::ch04
