// contracts/ch02/shards.hpp — chapter 02's contract: how a batch is split into shards, and how the
// shards' gradients are combined. The solution (solutions/ch02/shards.cpp) and your exercise
// (exercises/ch02/shards.cpp, TODO(02.1)-(02.3)) both implement these declarations; the
// data-parallel step (solutions/ch02/data_parallel.hpp) and its parallel region
// (contracts/ch02/parallel_gradient.hpp, TODO(02.4)) call them.
//
// A batch of n samples split into K shards of n_k samples; shard k's mean gradient g_k counts with
// weight w_k = n_k / n, so that g = sum_k w_k g_k is the mean gradient of the whole batch.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "ch02/gradient_buffers.hpp"
#include "ptt/data.hpp"

namespace ptt::ch02 {

/// @brief Splits a batch of @p batch rows into @p shards contiguous shards whose sizes differ by
/// at most one (the first batch % shards get one extra row). Shards are empty when batch < shards.
std::vector<Range> split_batch(std::size_t batch, int shards);

/// @brief The combination weights w_k = n_k / n of shards of sizes n_k (summing to n > 0).
std::vector<float> shard_weights(std::span<const Range> shards);

/// @brief out[i] = sum_k w_k * g_k[i] for i in [begin, end), adding shards in index order k = 0, 1, ...
/// so the result never depends on which thread runs it.
void combine_range(const GradientBuffers& g, std::span<const float> weights, std::span<float> out,
                   std::size_t begin, std::size_t end);

}  // namespace ptt::ch02
