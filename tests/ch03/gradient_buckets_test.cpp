// Chapter 03, TODO(03.3): the gradient buckets of the overlapped all-reduce. Hand-computed cuts,
// one at a bucket size met exactly, and on random nets the contract's properties: the buckets
// cover the buffer once, from the top down, whole layers each, and each closes as soon as it is
// full.
#include "ch03/gradient_buckets.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace ptt::ch03 {
namespace {

// {24, 20, 16, 12, 5}: layers of 500, 336, 204 and 65 floats (2000, 1344, 816 and 260 bytes) at
// offsets 0, 500, 836 and 1040; 1105 floats in all.
const ParamLayout& net() {
  static const ParamLayout layout({24, 20, 16, 12, 5});
  return layout;
}

TEST(GradientBuckets, OnePerLayerWhenEveryLayerFillsOne) {
  EXPECT_EQ(gradient_buckets(net(), 1),
            (std::vector<GradientBucket>{{3, 1040, 1105}, {2, 836, 1040}, {1, 500, 836}, {0, 0, 500}}));
}

TEST(GradientBuckets, ClosesAsSoonAsItHoldsEnough) {
  // 260 + 816 = 1076 bytes: exactly enough for a bucket of 1076, which closes after layer 2.
  EXPECT_EQ(gradient_buckets(net(), 1076),
            (std::vector<GradientBucket>{{2, 836, 1105}, {1, 500, 836}, {0, 0, 500}}));
  // 1400 bytes: layers 3, 2 and 1 (2420 bytes) in the first bucket; layer 0 fills the second.
  EXPECT_EQ(gradient_buckets(net(), 1400), (std::vector<GradientBucket>{{1, 500, 1105}, {0, 0, 500}}));
  // 3000 bytes: the top three layers are not enough; the last bucket takes what is left. And
  // when nothing fills a bucket, one bucket holds everything.
  EXPECT_EQ(gradient_buckets(net(), 3000), (std::vector<GradientBucket>{{0, 0, 1105}}));
  EXPECT_EQ(gradient_buckets(net(), std::size_t(1) << 30), (std::vector<GradientBucket>{{0, 0, 1105}}));
}

TEST(GradientBuckets, CoverTheBufferTopDownInWholeLayersOnRandomNets) {
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> width(1, 40), depth(2, 7);
  std::uniform_int_distribution<std::size_t> bytes(1, 6000);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int> sizes(std::size_t(depth(rng)));
    for (int& w : sizes) w = width(rng);
    const ParamLayout layout(sizes);
    const std::size_t want = bytes(rng);
    const std::vector<GradientBucket> b = gradient_buckets(layout, want);
    ASSERT_FALSE(b.empty());
    std::size_t top = layout.size();
    int above = layout.num_layers();  // the lowest layer of the bucket before
    for (std::size_t k = 0; k < b.size(); ++k) {
      ASSERT_EQ(b[k].end, top) << "bucket " << k << " does not start where the previous one ended (trial "
                               << trial << ")";
      ASSERT_TRUE(b[k].lowest_layer < above && b[k].lowest_layer >= 0) << "trial " << trial;
      ASSERT_EQ(b[k].begin, layout.layer(b[k].lowest_layer).weight)
          << "not whole layers (trial " << trial << ")";
      const std::size_t held = (b[k].end - b[k].begin) * sizeof(float);
      const std::size_t without_lowest =
          held - (layout.layer(b[k].lowest_layer).end - b[k].begin) * sizeof(float);
      if (k + 1 < b.size()) {
        EXPECT_GE(held, want) << "bucket " << k << " closed before it was full (trial " << trial << ")";
      }
      // Every bucket, the last one too, closes as soon as it is full: without its lowest layer
      // it was not full yet.
      EXPECT_LT(without_lowest, want)
          << "bucket " << k << " did not close as soon as it was full (trial " << trial << ")";
      top = b[k].begin;
      above = b[k].lowest_layer;
    }
    EXPECT_EQ(top, 0u) << "the buckets leave the bottom of the buffer out (trial " << trial << ")";
    EXPECT_EQ(above, 0) << "trial " << trial;
  }
}

}  // namespace
}  // namespace ptt::ch03
