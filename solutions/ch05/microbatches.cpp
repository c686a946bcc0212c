// solutions/ch05/microbatches.cpp — TODO(05.3)'s solution: the micro-batches of a mini-batch and
// their gradient weights (contracts/ch05/microbatches.hpp).
#include "ch05/microbatches.hpp"

#include <algorithm>

#include "ptt/error.hpp"

namespace ptt::ch05 {

//! [split_microbatches]
std::vector<MicroBatch> split_microbatches(std::size_t rows, int micro) {
  PTT_CHECK(rows >= 1 && micro >= 1, "split_microbatches: need rows >= 1 and micro >= 1");
  const auto m = static_cast<std::size_t>(micro);
  const std::size_t base = rows / m;   // every micro-batch holds at least this many rows
  const std::size_t extra = rows % m;  // and the first `extra` of them one more
  std::vector<MicroBatch> out(m);
  for (std::size_t j = 0; j < m; ++j) {
    MicroBatch& mb = out[j];
    mb.begin = j * base + std::min(j, extra);
    mb.end = mb.begin + base + (j < extra ? 1 : 0);
    // Its mean loss over n_j rows, scaled by n_j / B, is its rows' share of the mean over all B
    // rows. An empty micro-batch: 0 / B = 0, no division by its own size.
    mb.weight = static_cast<double>(mb.size()) / static_cast<double>(rows);
  }
  return out;
}
//! [split_microbatches]

}  // namespace ptt::ch05
