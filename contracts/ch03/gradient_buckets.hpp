// contracts/ch03/gradient_buckets.hpp — chapter 03's second contract (solutions/ch03/
// gradient_buckets.cpp and exercises/ch03/gradient_buckets.cpp implement it, TODO(03.3)): which
// layers' gradients travel together in one all-reduce of the overlapped backward pass.
//
// The backward pass finishes the layers from the top (the last layer) down. An all-reduce per
// layer would pay the latency alpha once per layer; one all-reduce at the end would overlap
// nothing. Buckets sit in between: walking from the top layer down, a bucket collects whole layers
// until it holds at least `bucket_bytes` bytes of gradients (4 bytes a float), then closes; the
// layers left at the bottom form the last bucket, however small. As soon as the backward pass has
// finished a bucket's LOWEST layer, that bucket's all-reduce can start while the layers below it
// are still being computed.
//
// Layers are contiguous in the flat buffer (weights then bias, layer after layer), so a bucket of
// consecutive layers is one contiguous range [begin, end) of it.
#pragma once

#include <cstddef>
#include <vector>

#include "ptt/mlp.hpp"

namespace ptt::ch03 {

/// One bucket: the range [begin, end) of the gradient buffer holding layers
/// lowest_layer, lowest_layer + 1, ... up to the layer before the previous bucket's lowest one.
struct GradientBucket {
  int lowest_layer = 0;   ///< the layer whose finished gradient lets this bucket start
  std::size_t begin = 0;  ///< where lowest_layer's weights start
  std::size_t end = 0;    ///< one past the bucket's top layer's bias
  bool operator==(const GradientBucket&) const = default;
};

/// @brief The buckets of @p layout for buckets of at least @p bucket_bytes, in the order the
/// backward pass closes them (the top layer's bucket first). Together they cover the buffer
/// exactly once; only the last (lowest) bucket may hold fewer than @p bucket_bytes.
std::vector<GradientBucket> gradient_buckets(const ParamLayout& layout, std::size_t bucket_bytes);

}  // namespace ptt::ch03
