#include "ptt/gradcheck.hpp"

#include <algorithm>
#include <cmath>

#include "ptt/error.hpp"

namespace ptt {

GradCheckResult check_gradient(std::span<float> x, std::span<const float> analytic,
                               const std::function<double()>& loss, double h, std::size_t stride,
                               const std::function<bool()>& kink) {
  PTT_CHECK(x.size() == analytic.size() && stride > 0, "bad arguments");
  GradCheckResult r;
  double diff2 = 0.0, g2 = 0.0, n2 = 0.0;
  for (std::size_t i = 0; i < x.size(); i += stride) {
    const float saved = x[i];
    x[i] = static_cast<float>(saved + h);
    const double plus = loss();
    x[i] = static_cast<float>(saved - h);
    const double minus = loss();
    x[i] = saved;
    if (kink && kink()) {
      ++r.skipped;
      continue;
    }
    // Divide by the step actually taken after rounding to float, not by the nominal 2h.
    const double step = static_cast<double>(static_cast<float>(saved + h)) -
                        static_cast<double>(static_cast<float>(saved - h));
    const double numeric = (plus - minus) / step;
    const double a = analytic[i];
    r.max_abs_error = std::max(r.max_abs_error, std::abs(a - numeric));
    diff2 += (a - numeric) * (a - numeric);
    g2 += a * a;
    n2 += numeric * numeric;
    ++r.checked;
  }
  r.numeric_norm = std::sqrt(n2);
  r.rel_error = std::sqrt(diff2) / std::max(std::sqrt(g2) + std::sqrt(n2), 1e-30);
  return r;
}

}  // namespace ptt
