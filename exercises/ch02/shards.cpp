// Chapter 02 exercise: how a batch is split into shards, and how shard gradients are combined.
// Fill in TODO(02.1), TODO(02.2) and TODO(02.3); chapters/02_openmp_data_parallel/README.md explains them.
// Check your work with:  ./tutorial check 02
#include "ch02/shards.hpp"

#include "ptt/error.hpp"

namespace ptt::ch02 {

std::vector<Range> split_batch(std::size_t batch, int shards) {
  PTT_CHECK(shards > 0, "need at least one shard");
  std::vector<Range> out;
  // TODO(02.1): cut [0, batch) into `shards` contiguous ranges, in order, whose sizes differ by
  //   at most one: the first batch % shards ranges get one extra row. Some may be empty.
  //   (ptt::shard_range in ptt/data.hpp computes one such range; or write the arithmetic.)
  for (int k = 0; k < shards; ++k) out.push_back(Range{0, 0});
  (void)batch;
  return out;
}

std::vector<float> shard_weights(std::span<const Range> shards) {
  std::size_t n = 0;
  for (const Range& s : shards) n += s.size();
  PTT_CHECK(n > 0, "empty batch");
  std::vector<float> w;
  // TODO(02.2): the weight of shard k is w_k = n_k / n (why not 1 / K? see the README).
  for (std::size_t k = 0; k < shards.size(); ++k) w.push_back(0.0f);
  return w;
}

void combine_range(const GradientBuffers& g, std::span<const float> weights, std::span<float> out,
                   std::size_t begin, std::size_t end) {
  // TODO(02.3): out[i] = sum_k weights[k] * g[k][i] for i in [begin, end).
  //   Add the shards in index order k = 0, 1, ... (the deterministic mode relies on it), and skip
  //   shards whose weight is 0: they were empty and their buffers hold garbage.
  (void)g;
  (void)weights;
  for (std::size_t i = begin; i < end; ++i) out[i] = 0.0f;
}

}  // namespace ptt::ch02
