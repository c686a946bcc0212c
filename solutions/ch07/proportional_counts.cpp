// solutions/ch07/proportional_counts.cpp — TODO(07.3)'s solution: a global batch dealt to the
// ranks in proportion to their speeds, by largest remainders (contracts/ch07/proportional_counts.hpp).
#include "ch07/proportional_counts.hpp"

#include <algorithm>
#include <cmath>

#include "ptt/error.hpp"

namespace ptt::ch07 {

//! [proportional_counts]
std::vector<std::size_t> proportional_counts(std::size_t n, std::span<const double> weights) {
  double total = 0.0;
  for (double w : weights) {
    PTT_CHECK(w >= 0.0 && std::isfinite(w), "proportional_counts: weights must be finite and >= 0");
    total += w;
  }
  PTT_CHECK(total > 0.0, "proportional_counts: the weights must not all be zero");
  std::vector<std::size_t> counts(weights.size());
  std::vector<double> remainder(weights.size());
  std::size_t given = 0;
  for (std::size_t k = 0; k < weights.size(); ++k) {
    const double scaled = static_cast<double>(n) * weights[k];  // n w_k: the exact share times W
    counts[k] = std::min(n - given, static_cast<std::size_t>(scaled / total));
    // The remainder times W, so that equal remainders compare equal (exactly so for whole-number
    // weights), whatever the whole part.
    remainder[k] = scaled - static_cast<double>(counts[k]) * total;
    given += counts[k];
  }
  // The n - given samples left: one each to the largest remainders (stable: lower rank first).
  std::vector<std::size_t> order(weights.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return remainder[a] > remainder[b]; });
  for (std::size_t j = 0; given < n; j = (j + 1) % order.size())
    if (weights[order[j]] > 0.0) ++counts[order[j]], ++given;
  return counts;
}
//! [proportional_counts]

}  // namespace ptt::ch07
