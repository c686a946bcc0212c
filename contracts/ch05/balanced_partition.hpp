// contracts/ch05/balanced_partition.hpp — chapter 05's second contract (solutions/ch05/
// balanced_partition.cpp and exercises/ch05/balanced_partition.cpp implement it, TODO(05.2)):
// cutting a row of items into contiguous parts whose largest sum is as small as it can be.
//
// A pipeline runs at the pace of its slowest stage, so the layers (chapter 05) or layer pairs
// (chapter 06) must be cut into P contiguous stages that minimise the LARGEST stage's cost:
//
//     minimise over 0 = b_0 < b_1 < ... < b_P = N   of   max_s  sum_{i in [b_s, b_{s+1})} cost_i
//
// Every stage gets at least one item. Trying every cut is exponential; a dynamic program is not:
// let best[k][n] be the smallest largest-part cost of cutting the first n items into k parts. The
// last of those parts is some run [c, n) with k-1 <= c < n, so
//
//     best[k][n] = min over c of  max(best[k-1][c], cost of [c, n)),    best[0][0] = 0,
//
// and the answer is best[P][N]. Remembering the best c of every (k, n) gives the boundaries back,
// from the last part to the first. With prefix sums each run's cost is one subtraction: O(P N^2).
#pragma once

#include <span>
#include <vector>

namespace ptt::ch05 {

/// @brief Cuts @p costs (N >= 1 non-negative item costs, in order) into @p parts contiguous,
/// non-empty runs (1 <= parts <= N) with the smallest possible largest run cost.
/// @return parts + 1 boundaries b: run s holds items [b[s], b[s+1]); b[0] = 0, b[parts] = N.
/// Where several cuts are optimal, any of them may be returned.
std::vector<int> balanced_partition(std::span<const double> costs, int parts);

}  // namespace ptt::ch05
