// solutions/ch07/imbalance.hpp — a globally imbalanced training set (--imbalance CLASSES:FRACTION),
// the two classic fixes (--class-balance weights|resample), and the per-class report that shows
// what plain accuracy hides (recall per class, macro-F1).
//
//   --imbalance 0,2,4:0.05   keeps a seeded 5 % of the training samples of classes 0, 2 and 4
//                            (at least one each); the other samples of those classes are skipped
//                            in every batch. The test set is untouched.
//   weights    the class-weighted loss  L = sum_i w_{y_i} l_i / sum_i w_{y_i}  over the batch, with
//              w_c = n / (C n_c) over the kept training set (inverse class frequency). Computed
//              exactly with chapter 02's weighting: rank k runs one forward/backward per class c
//              of its samples (mean gradient g_kc over m_kc samples) and adds
//              (w_c m_kc / W) g_kc, W = sum over the global batch of w_{y_i}.
//   resample   class-balanced resampling: each global batch is replaced by as many draws (with
//              replacement) from the kept samples, a class chosen uniformly, then a sample of it —
//              seeded by (seed, step), so every rank draws the same batch.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ptt/metrics.hpp"

namespace ptt::ch07 {

struct Imbalance {
  std::vector<int> classes;  ///< the classes to thin out
  double fraction = 1.0;     ///< the fraction of their samples kept, in (0, 1]
  bool active() const { return !classes.empty(); }
};

/// @brief Parses "0,2,4:0.05". @throws InputError naming --imbalance for a bad format, a class
/// that is not in [0, classes), or a fraction outside (0, 1].
Imbalance parse_imbalance(const std::string& text, int classes);

/// @brief keep[i] = 1 when training sample i stays: every sample of an unlisted class, and a seeded
/// round(fraction * n_c) (at least 1) of each listed class c.
std::vector<std::uint8_t> imbalance_keep(std::span<const std::uint8_t> labels, const Imbalance& imbalance,
                                         std::uint64_t seed);

/// @brief w_c = n / (C' n_c) over the kept samples (C': the classes present); 0 for an absent class.
std::vector<double> inverse_frequency_weights(std::span<const std::uint8_t> labels,
                                              std::span<const std::uint8_t> keep, int classes);

/// @brief Class-balanced resampling: @p count draws with replacement, each a class chosen uniformly
/// among those with members, then one of its members uniformly; seeded by (seed, step) so every
/// rank draws the same batch. @p members[c]: the (kept) samples of class c.
std::vector<std::uint32_t> class_balanced_draw(const std::vector<std::vector<std::uint32_t>>& members,
                                               std::size_t count, std::uint64_t seed, long step);

/// Per-class recall, precision, F1 (0 where undefined) and their macro averages.
struct ClassReport {
  std::vector<double> recall, precision, f1;
  double macro_f1 = 0.0;
  double macro_recall = 0.0;
};

/// @brief The per-class report of a confusion matrix (rows: truth, columns: prediction).
ClassReport class_report(const ConfusionMatrix& confusion);

}  // namespace ptt::ch07
