// The two pipeline schedules — YOUR copy. GPipe is done; 1F1B is the exercise (TODO(05.1)).
// See contracts/ch05/schedule.hpp for the pictures and chapters/05_model_parallel/README.md,
// "Exercises", for what to do and how to test it (./tutorial check 05).
#include "ch05/schedule.hpp"

#include <algorithm>

namespace ptt::ch05 {

std::vector<Op> gpipe_schedule(int /*stage*/, int /*stages*/, int micro) {
  std::vector<Op> ops;
  for (int j = 0; j < micro; ++j) ops.push_back({true, j});
  for (int j = micro - 1; j >= 0; --j) ops.push_back({false, j});
  return ops;
}

std::vector<Op> one_f_one_b_schedule(int stage, int stages, int micro) {
  std::vector<Op> ops;
  // TODO(05.1): the 1F1B order of `stage` (0-based) of `stages`, with `micro` micro-batches.
  //   1. Warm-up: how many forwards must this stage run before the first gradient can come back
  //      to it? (The last stage needs none; never more than `micro`.)
  //   2. Steady state: while forwards remain, one forward then one backward (oldest first).
  //   3. Cool-down: the remaining backwards, in order.
  // Stage 0 of 4 with 8 micro-batches: F0 F1 F2 F3 B0 F4 B1 F5 B2 F6 B3 F7 B4 B5 B6 B7.
  (void)stage;
  (void)stages;
  (void)micro;
  return ops;
}

}  // namespace ptt::ch05
