// The layers' split into pipeline stages (see partition.hpp).
#include "ch05/partition.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "ptt/error.hpp"

namespace ptt::ch05 {

std::vector<int> partition_layers(const ParamLayout& layout, int stages) {
  const int L = layout.num_layers();
  require_input(stages >= 1, "--pp: must be at least 1, got " + std::to_string(stages));
  require_input(stages <= L,
                "--pp " + std::to_string(stages) + ": the MLP has only " + std::to_string(L) +
                    " layers, and each stage needs at least one (add hidden layers with --hidden)");
  // prefix[l]: the multiply-adds of layers [0, l).
  std::vector<double> prefix(static_cast<std::size_t>(L) + 1, 0.0);
  for (int l = 0; l < L; ++l) {
    const auto& slot = layout.layer(l);
    prefix[static_cast<std::size_t>(l) + 1] =
        prefix[static_cast<std::size_t>(l)] + double(slot.in) * double(slot.out);
  }
  // best[k][l]: the smallest possible largest-stage cost splitting the first l layers into k stages;
  // cut[k][l]: where the last of those k stages starts.
  const double inf = std::numeric_limits<double>::infinity();
  const auto P = static_cast<std::size_t>(stages), N = static_cast<std::size_t>(L);
  std::vector<std::vector<double>> best(P + 1, std::vector<double>(N + 1, inf));
  std::vector<std::vector<int>> cut(P + 1, std::vector<int>(N + 1, 0));
  best[0][0] = 0.0;
  for (std::size_t k = 1; k <= P; ++k)
    for (std::size_t l = k; l <= N; ++l)
      for (std::size_t c = k - 1; c < l; ++c) {  // the last stage holds layers [c, l)
        const double cost = std::max(best[k - 1][c], prefix[l] - prefix[c]);
        if (cost < best[k][l]) {
          best[k][l] = cost;
          cut[k][l] = static_cast<int>(c);
        }
      }
  std::vector<int> bounds(P + 1);
  bounds[P] = L;
  for (std::size_t k = P; k >= 1; --k) bounds[k - 1] = cut[k][static_cast<std::size_t>(bounds[k])];
  return bounds;
}

}  // namespace ptt::ch05
