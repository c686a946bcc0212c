// Chapter 08 solution: one worker's memory on a grid with ZeRO. The accounting is in
// contracts/ch08/memory.hpp.
#include "ch08/memory.hpp"

#include <cmath>

#include "ptt/error.hpp"

namespace ptt::ch08 {

MemoryBreakdown memory_per_worker(const MemoryInputs& in) {
  PTT_CHECK(in.dp >= 1, "dp must be positive");
  PTT_CHECK(in.zero_stage >= 0 && in.zero_stage <= 3, "ZeRO stage must be 0..3");
  const bool mixed = in.precision == Precision::mixed;
  // Bytes per parameter: 16-bit params and grads in mixed precision, with an fp32 master copy
  // counted in the optimizer state (K = 4 + 4k, 12 for Adam); fp32 otherwise.
  const double param_bytes = mixed ? 2.0 : 4.0;
  const double grad_bytes = mixed ? 2.0 : 4.0;
  const double state_bytes = mixed ? 4.0 + 4.0 * in.optimizer_k : 4.0 * in.optimizer_k;
  // A shard is whole parameters; the largest of dp shards holds ceil(psi / dp) of them.
  const double shard = std::ceil(in.params / in.dp);
  MemoryBreakdown out;
  out.params = (in.zero_stage >= 3 ? shard : in.params) * param_bytes;
  out.grads = (in.zero_stage >= 2 ? shard : in.params) * grad_bytes;
  out.optimizer = (in.zero_stage >= 1 ? shard : in.params) * state_bytes;
  out.activations = in.activation_bytes;
  return out;
}

}  // namespace ptt::ch08
