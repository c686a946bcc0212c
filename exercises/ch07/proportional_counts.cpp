// Chapter 07 exercise: dealing a global batch to ranks of different speeds (see
// contracts/ch07/proportional_counts.hpp for the rounding rule and why it must sum exactly).
// Fill in TODO(07.3). Check your work with:  ./tutorial check 07
#include "ch07/proportional_counts.hpp"

#include <cmath>

#include "ptt/error.hpp"

namespace ptt::ch07 {

std::vector<std::size_t> proportional_counts(std::size_t n, std::span<const double> weights) {
  double total = 0.0;
  for (double w : weights) {
    PTT_CHECK(w >= 0.0 && std::isfinite(w), "proportional_counts: weights must be finite and >= 0");
    total += w;
  }
  PTT_CHECK(total > 0.0, "proportional_counts: the weights must not all be zero");
  // TODO(07.3): deal the n samples to the ranks in proportion to their weights (speeds), so that
  //   a fast rank takes more of the batch and the slow one stops holding every step up. The counts
  //   must sum to n exactly, each be its exact share rounded down or up, give a rank of weight 0
  //   nothing, and be the same on every rank: the contract's largest-remainder rule, ties to the
  //   lower rank. The placeholder gives the whole batch to the first rank with a positive weight:
  //   the gradient is still exact (any cut is), but that rank does all the work.
  std::vector<std::size_t> counts(weights.size(), 0);
  for (std::size_t k = 0; k < weights.size(); ++k)
    if (weights[k] > 0.0) {
      counts[k] = n;
      break;
    }
  return counts;
}

}  // namespace ptt::ch07
