// Chapter 02: the per-shard gradient buffers (contracts/ch02/shards.hpp), each on its own cache
// lines. Not part of the exercise: both libraries, solution and exercise, build this file.
#include <algorithm>
#include <cstdlib>
#include <new>

#include "ch02/shards.hpp"
#include "ptt/error.hpp"

namespace ptt::ch02 {

void GradientBuffers::Free::operator()(float* p) const { std::free(p); }

GradientBuffers::GradientBuffers(std::size_t count, std::size_t length)
    : count_(count), length_(length), stride_((length + kLineFloats - 1) / kLineFloats * kLineFloats) {
  PTT_CHECK(count > 0, "need at least one buffer");
  // One block, 64-byte aligned: with the stride a whole number of lines, every buffer starts on
  // a line of its own.
  const std::size_t bytes = std::max<std::size_t>(count_ * stride_ * sizeof(float), 64);
  data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
  if (!data_) throw std::bad_alloc();
}

}  // namespace ptt::ch02
