// contracts/ch07/stratified_split.hpp — chapter 07's first contract: which training samples each
// rank holds. The solution (solutions/ch07/stratified_split.cpp) and your exercise
// (exercises/ch07/stratified_split.cpp, TODO(07.1)) both implement stratified_split(); the other
// splits (random, by-class, Dirichlet) are in solutions/ch07/splits.hpp.
//
// A split of N samples over R ranks is a list of R shards (sample indices, ascending) in which
// every sample index 0..N-1 appears exactly once. Rank k holds n_k samples, n = sum_k n_k = N.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ptt::ch07 {

/// shards[k]: the indices of the samples rank k holds, ascending.
using Shards = std::vector<std::vector<std::uint32_t>>;

/// @brief The stratified split: every rank gets the same class mix.
///
/// For each class c (its n_c samples shuffled with make_rng(seed, Shuffle, kSplitStream + c)), the
/// samples are dealt to the ranks in turn, starting where the previous class stopped, so that
///   - per class, the counts of any two ranks differ by at most one (n_c / R each, up to one);
///   - in total, the shard sizes of any two ranks differ by at most one;
///   - every sample is held by exactly one rank; the same seed gives the same split.
/// @param labels  the label of every training sample, in [0, classes).
/// @param classes the number of classes.
/// @param ranks   R >= 1.
/// @param seed    --seed.
/// @return R shards, each ascending.
Shards stratified_split(std::span<const std::uint8_t> labels, int classes, int ranks, std::uint64_t seed);

/// The RngPurpose::Shuffle stream index where the splits' streams start: far above any epoch
/// number, so a split never draws the numbers the loop's shuffle draws.
inline constexpr std::uint64_t kSplitStream = std::uint64_t{1} << 40;

}  // namespace ptt::ch07
