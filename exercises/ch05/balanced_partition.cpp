// exercises/ch05/balanced_partition.cpp — TODO(05.2): the balanced cut of a pipeline's layers.
// The contract, with the recurrence explained, is contracts/ch05/balanced_partition.hpp;
// exercises/ch05/HINTS.md has hints in three levels. Test: ./tutorial check 05
#include "ch05/balanced_partition.hpp"

#include "ptt/error.hpp"

namespace ptt::ch05 {

// TODO(05.2): cut `costs` into `parts` contiguous, non-empty runs whose LARGEST total is as small
// as possible (the slowest pipeline stage sets the pace of all of them). The placeholder below
// cuts by item count, ignoring the costs: the pipeline runs with it, but a stage with the big
// first layer of 784-256-128-10 and another layer besides is slower than it needs to be. Replace
// it with the optimal cut.
std::vector<int> balanced_partition(std::span<const double> costs, int parts) {
  const auto N = static_cast<int>(costs.size());
  PTT_CHECK(parts >= 1 && parts <= N, "balanced_partition: need 1 <= parts <= items");
  std::vector<int> bounds;
  for (int s = 0; s <= parts; ++s) bounds.push_back(s * N / parts);
  return bounds;
}

}  // namespace ptt::ch05
