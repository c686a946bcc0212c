// contracts/ch05/microbatches.hpp — chapter 05's third contract (solutions/ch05/microbatches.cpp
// and exercises/ch05/microbatches.cpp implement it, TODO(05.3)): cutting a mini-batch into the
// pipeline's micro-batches, and the weight of each micro-batch's gradient.
//
// The pipeline runs a mini-batch of B rows as m micro-batches, one after another, and ADDS their
// gradients in each stage's buffer before the one update. The loss gradient of micro-batch j is
// that of ITS mean loss, over its own n_j rows. Chapter 01's update uses the gradient of the mean
// over all B rows:
//
//     L = (1/B) sum_{i < B} l_i = sum_j (n_j / B) * [ (1/n_j) sum_{i in j} l_i ] = sum_j w_j L_j,
//
// so micro-batch j's gradient must be scaled by w_j = n_j / B before it is added. When m divides B
// every n_j is B/m and w_j = 1/m; when it does not, the larger micro-batches must count more, or
// their rows weigh less than the others' and the sum is no longer chapter 01's gradient. The
// weights add up to 1 (the n_j add up to B).
//
// The cut: contiguous runs in order, sizes that differ by at most one, the larger ones FIRST
// (the first B mod m micro-batches hold one row more) — the same cut as chapter 02's shards, so
// the pipeline's micro-batches and those shards hold the same rows. When m > B, micro-batches
// B..m-1 are empty: they hold no row and weigh exactly 0 (the pipeline does not run them; the
// trainer uses min(m, B) micro-batches, but the cut is defined for any m >= 1).
#pragma once

#include <cstddef>
#include <vector>

namespace ptt::ch05 {

/// One micro-batch: rows [begin, end) of the mini-batch and the weight of its mean-loss gradient.
struct MicroBatch {
  std::size_t begin = 0;  ///< first row
  std::size_t end = 0;    ///< one past the last row
  double weight = 0.0;    ///< n_j / B: what its gradient counts in the mini-batch's gradient
  std::size_t size() const { return end - begin; }
};

/// @brief Cuts a mini-batch of @p rows rows (B >= 1) into @p micro micro-batches (m >= 1).
/// @return m micro-batches in order: the first begins at row 0, each begins where the one before it
/// ends, the last ends at B; the first B mod m hold floor(B/m) + 1 rows, the others floor(B/m)
/// (0 when m > B). Micro-batch j weighs n_j / B (0 for an empty one, never NaN); the weights sum
/// to 1 up to rounding.
/// @throws std::logic_error (PTT_CHECK) when B < 1 or m < 1: the caller checks its input first.
std::vector<MicroBatch> split_microbatches(std::size_t rows, int micro);

}  // namespace ptt::ch05
