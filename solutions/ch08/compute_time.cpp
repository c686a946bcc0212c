// Chapter 08 solution: the GEMM rate at a micro-batch's rows (a measured table, linear in
// log(rows), clamped) and one stage's forward and backward time. The math is in
// contracts/ch08/compute_time.hpp.
#include "ch08/compute_time.hpp"

#include <algorithm>
#include <cmath>

#include "ptt/error.hpp"

namespace ptt::ch08 {

double rate_at(const RateTable& table, double rows) {
  PTT_CHECK(!table.rows.empty() && table.rows.size() == table.flops_per_s.size(),
            "a rate table needs as many rates as row counts, at least one");
  PTT_CHECK(rows > 0, "rows must be positive");
  const auto& r = table.rows;
  const auto& f = table.flops_per_s;
  // Clamped: below the smallest and above the largest measured count, the nearest measurement.
  if (rows <= r.front()) return f.front();
  if (rows >= r.back()) return f.back();
  // The first measured count above `rows`, and the one before it.
  const std::size_t hi = static_cast<std::size_t>(std::upper_bound(r.begin(), r.end(), rows) - r.begin());
  const std::size_t lo = hi - 1;
  // Linear in log(rows): the ladder doubles the rows at each step.
  const double t = (std::log(rows) - std::log(r[lo])) / (std::log(r[hi]) - std::log(r[lo]));
  return f[lo] + t * (f[hi] - f[lo]);
}

ComputeTime stage_compute_time(const std::vector<StageLayer>& layers, double rows, const RateTable& forward,
                               const RateTable& backward, double busy_workers, int cores) {
  PTT_CHECK(busy_workers >= 1 && cores >= 0, "busy workers must be at least 1, cores non-negative");
  double fwd_flops = 0, bwd_flops = 0;
  for (const StageLayer& l : layers) {
    const double nio = rows * l.inputs * l.outputs * l.share;
    fwd_flops += 2.0 * nio;                    // Y = X W^T
    bwd_flops += (l.first ? 2.0 : 4.0) * nio;  // dW = dY^T X, and dX = dY W unless the first layer
  }
  // More busy workers than cores time-share them (chapter 02); fewer leave cores idle, not faster.
  const double slow = cores > 0 ? std::max(1.0, busy_workers / cores) : 1.0;
  // Each product runs at the rate of its own shape: n rows of one micro-batch.
  return {fwd_flops / rate_at(forward, rows) * slow, bwd_flops / rate_at(backward, rows) * slow};
}

}  // namespace ptt::ch08
