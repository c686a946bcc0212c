// Chapter 02 solution: how a batch is split into shards, and how shard gradients are combined.
#include "ch02/shards.hpp"

#include "ptt/error.hpp"

namespace ptt::ch02 {

std::vector<Range> split_batch(std::size_t batch, int shards) {
  PTT_CHECK(shards > 0, "need at least one shard");
  std::vector<Range> out;
  for (int k = 0; k < shards; ++k) out.push_back(shard_range(batch, k, shards));
  return out;
}

//! [combine]
std::vector<float> shard_weights(std::span<const Range> shards) {
  std::size_t n = 0;
  for (const Range& s : shards) n += s.size();
  PTT_CHECK(n > 0, "empty batch");
  std::vector<float> w;
  // w_k = n_k / n: a shard's mean gradient counts as much as the samples behind it.
  for (const Range& s : shards) w.push_back(static_cast<float>(s.size()) / static_cast<float>(n));
  return w;
}

void combine_range(const GradientBuffers& g, std::span<const float> weights, std::span<float> out,
                   std::size_t begin, std::size_t end) {
  // Shard 0 initialises, shards 1.. add in index order: the same operations, in the same order,
  // for every element, whichever thread runs this range.
  const float* g0 = g[0].data();
  for (std::size_t i = begin; i < end; ++i) out[i] = weights[0] * g0[i];
  for (std::size_t k = 1; k < g.count(); ++k) {
    if (weights[k] == 0.0f) continue;  // an empty shard contributes nothing (and was not computed)
    const float* gk = g[k].data();
    const float w = weights[k];
    for (std::size_t i = begin; i < end; ++i) out[i] += w * gk[i];
  }
}
//! [combine]

}  // namespace ptt::ch02
