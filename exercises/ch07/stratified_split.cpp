// Chapter 07 exercise: the stratified split (see contracts/ch07/stratified_split.hpp for what it
// must guarantee, and chapters/07_uneven_data/README.md for why it matters).
// Fill in TODO(07.1). Check your work with:  ./tutorial check 07
#include "ch07/stratified_split.hpp"

#include <algorithm>

#include "ptt/error.hpp"
#include "ptt/rng.hpp"

namespace ptt::ch07 {

Shards stratified_split(std::span<const std::uint8_t> labels, int classes, int ranks, std::uint64_t seed) {
  PTT_CHECK(ranks >= 1 && classes >= 1, "stratified_split: need at least one rank and one class");
  Shards shards(static_cast<std::size_t>(ranks));
  // TODO(07.1): deal every sample to exactly one rank, class by class:
  //   1. collect the indices of each class c (labels[i] == c);
  //   2. shuffle them with make_rng(seed, RngPurpose::Shuffle, kSplitStream + c);
  //   3. hand them out in turn (rank next, next + 1, ... modulo ranks), and carry `next` over
  //      to the following class, so that the shard sizes stay within one of each other too;
  //   4. sort each shard ascending.
  (void)labels, (void)seed;
  return shards;
}

}  // namespace ptt::ch07
