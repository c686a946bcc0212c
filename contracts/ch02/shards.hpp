// contracts/ch02/shards.hpp — chapter 02's contract: how a batch is split into shards, and how the
// shards' gradients are combined. The solution (solutions/ch02/shards.cpp) and your exercise
// (exercises/ch02/shards.cpp, TODO(02.1)-(02.3)) both implement these declarations; the
// data-parallel step (solutions/ch02/data_parallel.hpp) calls them.
//
// A batch of n samples split into K shards of n_k samples; shard k's mean gradient g_k counts with
// weight w_k = n_k / n, so that g = sum_k w_k g_k is the mean gradient of the whole batch.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "ptt/data.hpp"

namespace ptt::ch02 {

/// One gradient buffer per shard. Each buffer starts on its own 64-byte cache line and its length
/// is padded to whole cache lines, so two threads never write to the same line (no false sharing).
class GradientBuffers {
 public:
  static constexpr std::size_t kLineFloats = 64 / sizeof(float);
  GradientBuffers(std::size_t count, std::size_t length);
  std::span<float> operator[](std::size_t k) { return {data_.get() + k * stride_, length_}; }
  std::span<const float> operator[](std::size_t k) const { return {data_.get() + k * stride_, length_}; }
  std::size_t count() const { return count_; }
  std::size_t length() const { return length_; }
  /// Floats from one buffer's start to the next: length rounded up to a whole cache line.
  std::size_t stride() const { return stride_; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::size_t count_, length_, stride_;
  std::unique_ptr<float[], Free> data_;
};

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
