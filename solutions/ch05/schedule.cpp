// The two pipeline schedules. See schedule.hpp for the pictures; chapters/05_model_parallel/README.md
// for why 1F1B holds at most p - s micro-batches' activations on stage s.
#include "ch05/schedule.hpp"

#include <algorithm>

namespace ptt::ch05 {

std::vector<Op> gpipe_schedule(int /*stage*/, int /*stages*/, int micro) {
  std::vector<Op> ops;
  for (int j = 0; j < micro; ++j) ops.push_back({true, j});
  for (int j = micro - 1; j >= 0; --j) ops.push_back({false, j});
  return ops;
}

//! [one_f_one_b]
std::vector<Op> one_f_one_b_schedule(int stage, int stages, int micro) {
  std::vector<Op> ops;
  // Warm-up: stage s must have sent p-1-s micro-batches downstream before the first gradient can
  // come back up to it (the last stage needs none: its first backward follows its first forward).
  const int warmup = std::min(stages - 1 - stage, micro);
  int next_forward = 0, next_backward = 0;
  for (; next_forward < warmup; ++next_forward) ops.push_back({true, next_forward});
  // Steady state: one forward, then one backward (the oldest micro-batch still held).
  while (next_forward < micro) {
    ops.push_back({true, next_forward++});
    ops.push_back({false, next_backward++});
  }
  // Cool-down: the backwards of the micro-batches still in flight.
  while (next_backward < micro) ops.push_back({false, next_backward++});
  return ops;
}
//! [one_f_one_b]

}  // namespace ptt::ch05
