// Chapter 07: the stratified split (see contracts/ch07/stratified_split.hpp).
#include "ch07/stratified_split.hpp"

#include <algorithm>

#include "ptt/error.hpp"
#include "ptt/rng.hpp"

namespace ptt::ch07 {

Shards stratified_split(std::span<const std::uint8_t> labels, int classes, int ranks, std::uint64_t seed) {
  PTT_CHECK(ranks >= 1 && classes >= 1, "stratified_split: need at least one rank and one class");
  std::vector<std::vector<std::uint32_t>> by_class(static_cast<std::size_t>(classes));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    PTT_CHECK(labels[i] < classes, "stratified_split: a label is not below the number of classes");
    by_class[labels[i]].push_back(static_cast<std::uint32_t>(i));
  }
  Shards shards(static_cast<std::size_t>(ranks));
  std::size_t next = 0;  // the rank that receives the next sample, carried from class to class
  for (int c = 0; c < classes; ++c) {
    std::vector<std::uint32_t>& samples = by_class[static_cast<std::size_t>(c)];
    auto rng = make_rng(seed, RngPurpose::Shuffle, kSplitStream + static_cast<std::uint64_t>(c));
    std::shuffle(samples.begin(), samples.end(), rng);
    // Dealt in turn: per class the counts differ by at most one; carrying the turn over keeps the
    // totals within one as well.
    for (std::uint32_t i : samples) {
      shards[next].push_back(i);
      next = (next + 1) % shards.size();
    }
  }
  for (auto& s : shards) std::sort(s.begin(), s.end());
  return shards;
}

}  // namespace ptt::ch07
