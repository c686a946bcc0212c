// exercises/ch05/microbatches.cpp — TODO(05.3): the micro-batches of a mini-batch and the weight
// of each one's gradient. The contract, with the sum that the weights must make, is
// contracts/ch05/microbatches.hpp; exercises/ch05/HINTS.md has hints in three levels.
// Test: ./tutorial check 05
#include "ch05/microbatches.hpp"

#include "ptt/error.hpp"

namespace ptt::ch05 {

// TODO(05.3): cut a mini-batch of `rows` rows into `micro` contiguous micro-batches, in order,
// covering every row exactly once, with sizes that differ by at most one and the larger ones
// first; an empty micro-batch when there are more micro-batches than rows. Give each one the
// weight its mean-loss gradient must have, so that the pipeline's SUM of weighted micro-batch
// gradients is chapter 01's gradient of the mean loss over the whole mini-batch, also when the
// sizes are uneven. An empty micro-batch must weigh nothing (and never be divided by).
// The placeholder below returns every micro-batch empty, with no weight: the pipeline then has
// no rows to learn from.
std::vector<MicroBatch> split_microbatches(std::size_t rows, int micro) {
  PTT_CHECK(rows >= 1 && micro >= 1, "split_microbatches: need rows >= 1 and micro >= 1");
  return std::vector<MicroBatch>(static_cast<std::size_t>(micro));
}

}  // namespace ptt::ch05
