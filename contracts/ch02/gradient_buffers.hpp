// contracts/ch02/gradient_buffers.hpp — one gradient buffer per shard, laid out so that threads
// writing different buffers never write to the same cache line. The constructor is half of
// TODO(02.4): the solution (solutions/ch02/parallel_gradient.cpp) and your exercise
// (exercises/ch02/parallel_gradient.cpp) both define it.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

namespace ptt::ch02 {

/// @brief One gradient buffer per shard, in one block of memory.
///
/// A cache line is 64 bytes. When two threads write to the same line, even to different floats
/// of it, every write by one core invalidates the line in the other's cache ("false sharing",
/// measured by ch02_false_sharing). So the layout promises:
/// - stride() is length() rounded up to a whole number of lines (kLineFloats floats each), and
///   not one line more;
/// - buffer k starts k * stride() floats after buffer 0, and buffer 0 starts on a 64-byte
///   boundary, so every buffer starts on a line of its own and no two share a line;
/// - the block is freed with std::free (the deleter Free): allocate it with std::aligned_alloc,
///   whose size must be a multiple of the alignment, and never with a size of 0.
/// The floats are not initialised.
class GradientBuffers {
 public:
  static constexpr std::size_t kLineFloats = 64 / sizeof(float);
  /// @brief @p count buffers of @p length floats (length may be 0; count must be > 0).
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

}  // namespace ptt::ch02
