// solutions/ch03/gradient_buckets.cpp — TODO(03.3)'s solution (contracts/ch03/gradient_buckets.hpp).
#include "ch03/gradient_buckets.hpp"

namespace ptt::ch03 {

//! [gradient_buckets]
std::vector<GradientBucket> gradient_buckets(const ParamLayout& layout, std::size_t bucket_bytes) {
  std::vector<GradientBucket> buckets;
  std::size_t bytes = 0;                                // gradients collected in the open bucket
  std::size_t end = layout.size();                      // where the open bucket ends
  for (int l = layout.num_layers() - 1; l >= 0; --l) {  // the order backward finishes them
    const LayerSlot& s = layout.layer(l);
    bytes += (s.end - s.weight) * sizeof(float);
    if (bytes >= bucket_bytes || l == 0) {  // full, or nothing left below
      buckets.push_back(GradientBucket{l, s.weight, end});
      end = s.weight;
      bytes = 0;
    }
  }
  return buckets;
}
//! [gradient_buckets]

}  // namespace ptt::ch03
