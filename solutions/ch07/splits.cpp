// Chapter 07: the random, by-class and Dirichlet splits (see splits.hpp).
#include "ch07/splits.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

#include "ptt/data.hpp"
#include "ptt/error.hpp"
#include "ptt/rng.hpp"

namespace ptt::ch07 {

namespace {
// Streams of RngPurpose::Shuffle above kSplitStream: [class] for the stratified split (the
// contract), then one block per other split, so no two splits share numbers.
constexpr std::uint64_t kRandomStream = kSplitStream + (std::uint64_t{1} << 20);
constexpr std::uint64_t kByClassStream = kSplitStream + (std::uint64_t{2} << 20);
constexpr std::uint64_t kDirichletStream = kSplitStream + (std::uint64_t{3} << 20);

std::vector<std::vector<std::uint32_t>> indices_by_class(std::span<const std::uint8_t> labels, int classes) {
  std::vector<std::vector<std::uint32_t>> by_class(static_cast<std::size_t>(classes));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    PTT_CHECK(labels[i] < classes, "split: a label is not below the number of classes");
    by_class[labels[i]].push_back(static_cast<std::uint32_t>(i));
  }
  return by_class;
}

void sort_all(Shards& shards) {
  for (auto& s : shards) std::sort(s.begin(), s.end());
}
}  // namespace

Shards random_split(std::size_t samples, int ranks, std::uint64_t seed) {
  std::vector<std::uint32_t> order(samples);
  std::iota(order.begin(), order.end(), 0u);
  auto rng = make_rng(seed, RngPurpose::Shuffle, kRandomStream);
  std::shuffle(order.begin(), order.end(), rng);
  Shards shards(static_cast<std::size_t>(ranks));
  for (int k = 0; k < ranks; ++k) {
    const Range r = shard_range(samples, k, ranks);
    shards[static_cast<std::size_t>(k)].assign(order.begin() + static_cast<std::ptrdiff_t>(r.begin),
                                               order.begin() + static_cast<std::ptrdiff_t>(r.end));
  }
  sort_all(shards);
  return shards;
}

Shards by_class_split(std::span<const std::uint8_t> labels, int classes, int ranks, int classes_per_rank,
                      std::uint64_t seed) {
  PTT_CHECK(classes_per_rank >= 1 && classes_per_rank <= classes,
            "by_class_split: K must be in [1, classes]");
  auto by_class = indices_by_class(labels, classes);
  std::vector<int> perm(static_cast<std::size_t>(classes));
  std::iota(perm.begin(), perm.end(), 0);
  auto rng = make_rng(seed, RngPurpose::Shuffle, kByClassStream);
  std::shuffle(perm.begin(), perm.end(), rng);
  // Slots: rank k holds K consecutive entries of the cyclic class sequence (distinct, as K <= C).
  const int k_eff = std::max(classes_per_rank, classes / ranks);
  std::vector<std::vector<int>> holders(static_cast<std::size_t>(classes));  // class -> ranks holding it
  const long slots = static_cast<long>(k_eff) * ranks;
  for (long j = 0; j < slots; ++j)
    holders[static_cast<std::size_t>(perm[static_cast<std::size_t>(j % classes)])].push_back(
        static_cast<int>(j / k_eff));
  for (long j = slots; j < classes; ++j)  // left over (ranks x K < classes): one more each
    holders[static_cast<std::size_t>(perm[static_cast<std::size_t>(j)])].push_back(
        static_cast<int>((j - slots) % ranks));
  Shards shards(static_cast<std::size_t>(ranks));
  for (int c = 0; c < classes; ++c) {
    auto& samples = by_class[static_cast<std::size_t>(c)];
    auto crng = make_rng(seed, RngPurpose::Shuffle, kByClassStream + 1 + static_cast<std::uint64_t>(c));
    std::shuffle(samples.begin(), samples.end(), crng);
    const auto& who = holders[static_cast<std::size_t>(c)];
    const int m = static_cast<int>(who.size());
    for (int h = 0; h < m; ++h) {
      const Range r = shard_range(samples.size(), h, m);
      auto& shard = shards[static_cast<std::size_t>(who[static_cast<std::size_t>(h)])];
      shard.insert(shard.end(), samples.begin() + static_cast<std::ptrdiff_t>(r.begin),
                   samples.begin() + static_cast<std::ptrdiff_t>(r.end));
    }
  }
  sort_all(shards);
  return shards;
}

Shards dirichlet_split(std::span<const std::uint8_t> labels, int classes, int ranks, double alpha,
                       std::uint64_t seed) {
  PTT_CHECK(alpha > 0.0, "dirichlet_split: alpha must be > 0");
  auto by_class = indices_by_class(labels, classes);
  Shards shards(static_cast<std::size_t>(ranks));
  std::vector<double> share(static_cast<std::size_t>(ranks));
  for (int c = 0; c < classes; ++c) {
    auto rng = make_rng(seed, RngPurpose::Shuffle, kDirichletStream + static_cast<std::uint64_t>(c));
    auto& samples = by_class[static_cast<std::size_t>(c)];
    std::shuffle(samples.begin(), samples.end(), rng);
    std::gamma_distribution<double> gamma(alpha, 1.0);
    double total = 0.0;
    for (double& s : share) total += (s = gamma(rng));
    // Cut points at the rounded cumulative shares: each sample lands in exactly one piece.
    double cumulative = 0.0;
    std::size_t begin = 0;
    const auto n_c = static_cast<double>(samples.size());
    for (int k = 0; k < ranks; ++k) {
      cumulative += share[static_cast<std::size_t>(k)];
      std::size_t end = begin;  // a degenerate draw (all shares zero) leaves all to the last rank
      if (k == ranks - 1)
        end = samples.size();
      else if (total > 0.0)
        end = std::min(samples.size(), static_cast<std::size_t>(n_c * cumulative / total + 0.5));
      end = std::max(begin, end);
      auto& shard = shards[static_cast<std::size_t>(k)];
      shard.insert(shard.end(), samples.begin() + static_cast<std::ptrdiff_t>(begin),
                   samples.begin() + static_cast<std::ptrdiff_t>(end));
      begin = end;
    }
  }
  sort_all(shards);
  return shards;
}

Shards make_split(const SplitOptions& options, std::span<const std::uint8_t> labels, int classes, int ranks,
                  std::uint64_t seed) {
  switch (options.kind) {
    case SplitKind::ByClass:
      return by_class_split(labels, classes, ranks, options.classes_per_rank, seed);
    case SplitKind::Dirichlet:
      return dirichlet_split(labels, classes, ranks, options.alpha, seed);
    case SplitKind::Stratified:
      return stratified_split(labels, classes, ranks, seed);
    case SplitKind::Random:
      break;
  }
  return random_split(labels.size(), ranks, seed);
}

std::vector<int> owners(const Shards& shards, std::size_t samples) {
  std::vector<int> owner(samples, -1);
  for (std::size_t k = 0; k < shards.size(); ++k)
    for (std::uint32_t i : shards[k]) {
      if (i >= samples) throw std::runtime_error("split: sample " + std::to_string(i) + " is out of range");
      if (owner[i] != -1)
        throw std::runtime_error("split: sample " + std::to_string(i) + " is held by two ranks");
      owner[i] = static_cast<int>(k);
    }
  for (std::size_t i = 0; i < samples; ++i)
    if (owner[i] == -1)
      throw std::runtime_error("split: sample " + std::to_string(i) + " is held by no rank");
  return owner;
}

}  // namespace ptt::ch07
