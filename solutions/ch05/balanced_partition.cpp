// solutions/ch05/balanced_partition.cpp — TODO(05.2)'s solution: the dynamic program of
// contracts/ch05/balanced_partition.hpp.
#include "ch05/balanced_partition.hpp"

#include <algorithm>
#include <limits>

#include "ptt/error.hpp"

namespace ptt::ch05 {

//! [balanced_partition]
std::vector<int> balanced_partition(std::span<const double> costs, int parts) {
  const auto N = costs.size();
  PTT_CHECK(parts >= 1 && static_cast<std::size_t>(parts) <= N,
            "balanced_partition: need 1 <= parts <= items");
  // prefix[n]: the cost of items [0, n).
  std::vector<double> prefix(N + 1, 0.0);
  for (std::size_t i = 0; i < N; ++i) prefix[i + 1] = prefix[i] + costs[i];
  // best[k][n]: the smallest largest-part cost of the first n items in k parts;
  // cut[k][n]: where the last of those k parts starts.
  const double inf = std::numeric_limits<double>::infinity();
  const auto P = static_cast<std::size_t>(parts);
  std::vector<std::vector<double>> best(P + 1, std::vector<double>(N + 1, inf));
  std::vector<std::vector<int>> cut(P + 1, std::vector<int>(N + 1, 0));
  best[0][0] = 0.0;
  for (std::size_t k = 1; k <= P; ++k)
    for (std::size_t n = k; n <= N; ++n)
      for (std::size_t c = k - 1; c < n; ++c) {  // the last part holds items [c, n)
        const double cost = std::max(best[k - 1][c], prefix[n] - prefix[c]);
        if (cost < best[k][n]) {
          best[k][n] = cost;
          cut[k][n] = static_cast<int>(c);
        }
      }
  std::vector<int> bounds(P + 1);
  bounds[P] = static_cast<int>(N);
  for (std::size_t k = P; k >= 1; --k) bounds[k - 1] = cut[k][static_cast<std::size_t>(bounds[k])];
  return bounds;
}
//! [balanced_partition]

}  // namespace ptt::ch05
