// ptt/gradcheck.hpp — finite-difference gradient checking.
//
// The analytic gradient g of a scalar function L(x) is checked against the central difference
//   (L(x + h e_i) - L(x - h e_i)) / (2h),
// whose error is O(h^2). In float32, rounding in L adds an error of about eps * |L| / h, so h is
// a compromise (1e-2 to 1e-3 for losses of order one).
#pragma once

#include <cstddef>
#include <functional>
#include <span>

namespace ptt {

struct GradCheckResult {
  double max_abs_error = 0.0;  ///< max_i |g_i - n_i|
  double rel_error = 0.0;      ///< ||g - n|| / max(||g|| + ||n||, tiny): 0 = perfect, 1 = unrelated
  std::size_t checked = 0;     ///< how many coordinates were compared
  std::size_t skipped = 0;     ///< coordinates skipped because a kink lay within +-h
  double numeric_norm = 0.0;   ///< ||n||: near zero means the function was flat here, and a
                               ///< match proves nothing (check it is not, in tests)
};

/// @brief Compares @p analytic with central differences of @p loss around @p x.
/// @param x        the point; each checked coordinate is perturbed and restored in place.
/// @param analytic the gradient to check, same length as x.
/// @param loss     evaluates L at the current contents of x.
/// @param h        the step.
/// @param stride   check every stride-th coordinate (1 = all), for large buffers.
/// @param kink     optional; called after both evaluations of a coordinate, returns true when the
///                 function was not smooth between x - h and x + h (e.g. a ReLU changed sides), in
///                 which case the central difference is meaningless and the coordinate is skipped.
GradCheckResult check_gradient(std::span<float> x, std::span<const float> analytic,
                               const std::function<double()>& loss, double h = 1e-2, std::size_t stride = 1,
                               const std::function<bool()>& kink = nullptr);

}  // namespace ptt
