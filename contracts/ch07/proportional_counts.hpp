// contracts/ch07/proportional_counts.hpp — chapter 07's third contract: dealing a global batch to
// ranks of different speeds. The solution (solutions/ch07/proportional_counts.cpp) and your
// exercise (exercises/ch07/proportional_counts.cpp, TODO(07.3)) both implement
// proportional_counts().
//
// A synchronous step ends when the slowest rank ends. With --balance speed, chapter 07 cuts each
// global batch of n samples into contiguous parts whose sizes c_k follow the ranks' measured speeds
// w_k (samples per second). The gradient stays exact for ANY cut (each rank's gradient counts
// c_k / n, chapter 02's weighting, zero included); what the cut changes is who waits. The exact
// share n w_k / W (W = sum_k w_k) is rarely a whole number, so it is rounded by LARGEST REMAINDERS:
//
//     c_k = floor(n w_k / W)                     for every rank, then
//     the n - sum_k c_k samples left over go one each to the ranks with the largest remainders
//     n w_k - c_k W, ties to the LOWER rank.
//
// Then the counts sum to n exactly (no sample lost, none computed twice), every c_k is its exact
// share rounded down or up (|c_k - n w_k / W| < 1), a rank of weight 0 gets nothing, and the rule
// is deterministic: every rank computes the same counts from the same gathered speeds, without
// another message. (Rounding each share to the nearest whole number does not sum to n.)
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace ptt::ch07 {

/// @brief Counts c_k that sum to @p n, proportional to @p weights, by largest remainders.
/// @param n       the samples to deal (0 allowed: all counts 0).
/// @param weights one per rank, finite and >= 0, with a positive sum.
/// @return one count per rank: floor(n w_k / W), plus one for the n - sum floor ranks with the
///         largest remainders n w_k - floor(n w_k / W) W (ties: the lower rank first).
/// @throws std::logic_error (PTT_CHECK) when a weight is negative or not finite, or all are 0.
std::vector<std::size_t> proportional_counts(std::size_t n, std::span<const double> weights);

}  // namespace ptt::ch07
