// solutions/ch07/splits.hpp — which training samples each rank holds (--split).
//
//   random      a seeded permutation cut into R contiguous pieces (sizes within one): IID shards.
//   by-class    label skew by construction: the classes are dealt to the ranks, K (or K + 1) each,
//               every class held by some rank; a class held by m ranks is cut in m equal parts.
//   dirichlet   the usual label-skew split: for each class, shares p ~ Dirichlet(alpha, ..., alpha)
//               over the ranks; small alpha gives each class to few ranks, large alpha is near IID.
//   stratified  every rank the same class mix (contracts/ch07/stratified_split.hpp, TODO(07.1)).
//
// Every split holds each sample exactly once and depends only on (labels, ranks, seed, options).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ch07/stratified_split.hpp"

namespace ptt::ch07 {

enum class SplitKind { Random, ByClass, Dirichlet, Stratified };

struct SplitOptions {
  SplitKind kind = SplitKind::Random;
  double alpha = 0.5;        ///< --alpha, the Dirichlet concentration (> 0)
  int classes_per_rank = 2;  ///< --classes-per-rank K for by-class (1 <= K <= classes)
};

/// @brief A seeded permutation of the N samples cut into @p ranks contiguous pieces.
Shards random_split(std::size_t samples, int ranks, std::uint64_t seed);

/// @brief The classes dealt to the ranks: a seeded permutation of the classes is laid out
/// cyclically over ranks x K slots (K = max(classes_per_rank, classes / ranks), so that every class
/// is held); a class that falls in m slots is shuffled and cut into m equal parts; classes left
/// over when ranks x K < classes go one each to ranks 0, 1, ... (those hold K + 1).
Shards by_class_split(std::span<const std::uint8_t> labels, int classes, int ranks, int classes_per_rank,
                      std::uint64_t seed);

/// @brief For each class, shares p ~ Dirichlet(alpha) over the ranks (normalised Gamma(alpha, 1)
/// draws); the class's shuffled samples are cut at the rounded cumulative shares. Ranks may hold
/// nothing of a class, or nothing at all.
Shards dirichlet_split(std::span<const std::uint8_t> labels, int classes, int ranks, double alpha,
                       std::uint64_t seed);

/// @brief The split @p options names.
Shards make_split(const SplitOptions& options, std::span<const std::uint8_t> labels, int classes, int ranks,
                  std::uint64_t seed);

/// @brief owner[i]: the rank holding sample i (every sample must be held exactly once).
/// @throws std::runtime_error when a sample is missing, repeated or out of range.
std::vector<int> owners(const Shards& shards, std::size_t samples);

}  // namespace ptt::ch07
