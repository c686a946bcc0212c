// contracts/ch05/schedule.hpp — chapter 05's contract (solutions/ch05/schedule.cpp and
// exercises/ch05/schedule.cpp implement it): the order in which one pipeline stage runs its forward and
// backward passes.
//
// A mini-batch is split into m micro-batches; stage s (of p) runs F j (forward of micro-batch j)
// and B j (its backward). The data flow fixes what MUST come first (F j on stage s-1 before F j
// on stage s; B j on stage s+1 before B j on stage s; F j before B j everywhere); a schedule is
// one order per stage that respects it.
//
//   GPipe: all forwards, then all backwards (last micro-batch first, as in the paper):
//          F0 F1 ... F(m-1) B(m-1) ... B0. Every stage holds the activations of all m
//          micro-batches at the turn.
//   1F1B:  warm-up with the forwards needed to fill the pipeline below this stage
//          (min(p-1-s, m) of them), then alternate one forward and one backward, then drain the
//          remaining backwards: stage s never holds more than p-s micro-batches' activations.
//
// Both have the same bubble, (p-1)/(m+p-1) of the time on balanced stages; 1F1B just needs
// less memory. This file's 1F1B is chapter 05's exercise (TODO(05.1) in exercises/ch05).
#pragma once

#include <string>
#include <vector>

namespace ptt::ch05 {

/// One operation of a stage: the forward or the backward pass of micro-batch `micro`.
struct Op {
  bool forward = true;
  int micro = 0;
  bool operator==(const Op&) const = default;
};

/// @brief GPipe's order for @p stage (0-based) of @p stages with @p micro micro-batches.
std::vector<Op> gpipe_schedule(int stage, int stages, int micro);

/// @brief 1F1B's order (PipeDream-Flush, as in Megatron-LM) for @p stage of @p stages.
std::vector<Op> one_f_one_b_schedule(int stage, int stages, int micro);

}  // namespace ptt::ch05
