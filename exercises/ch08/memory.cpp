// Chapter 08 exercise: one worker's memory on a dp x pp x tp grid with ZeRO (see
// contracts/ch08/memory.hpp for the accounting).
// Fill in TODO(08.2). Check your work with:  ./tutorial check 08
#include "ch08/memory.hpp"

namespace ptt::ch08 {

MemoryBreakdown memory_per_worker(const MemoryInputs& in) {
  // TODO(08.2): the bytes of in.params parameters' values, gradients and optimizer state on one
  //   worker, and in.activation_bytes of activations:
  //   - bytes per parameter: fp32 4 / 4 / 4k; mixed 2 / 2 / K = 4 + 4k (the state includes an
  //     fp32 master copy of the parameters);
  //   - ZeRO stage s shards over in.dp replicas: s >= 1 the optimizer state, s >= 2 also the
  //     gradients, s >= 3 also the parameters; a shard is whole parameters, and the worker that
  //     needs the most holds the largest shard.
  (void)in;
  return {};
}

}  // namespace ptt::ch08
