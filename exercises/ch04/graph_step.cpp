// graph_step.cpp — EXERCISE (chapter 04): how each training step is launched, eagerly (one launch
// per kernel) or from a CUDA graph. The trainer ch04_cuda asks step_launch before every step when
// built with -DPTT_CH04_USE_EXERCISE=ON; with the untouched stub it trains correctly, but never uses
// a graph.
//
// Write step_launch, declared with its contract in contracts/ch04/graph_step.hpp (read its top
// comment first: what a graph is, and what it cannot do).
#include "ch04/graph_step.hpp"

namespace ptt::ch04 {

StepLaunch step_launch(const StepState& s) {
  // TODO(04.5): decide how the step described by s is launched. A graph replays exactly what it
  //   recorded (the same kernels, arguments and pointers), nothing may initialise while it records,
  //   and recording costs far more than launching. So: only full batches may use the graph, and
  //   only when the learner asked for graphs; the first full step must run eagerly (the warm-up);
  //   the graph is recorded once, on the first full step after the warm-up, and every full step
  //   after that replays it. Stuck? exercises/ch04/HINTS.md.
  static_cast<void>(s);
  return StepLaunch::eager;
}

}  // namespace ptt::ch04
