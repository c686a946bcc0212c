// exercises/ch06/zero.cpp — TODO(06.2): one ZeRO-1 step. The contract, with the three steps and
// their costs, is contracts/ch06/zero.hpp; exercises/ch06/HINTS.md has hints in three levels.
// Test: ./tutorial check 06
#include "ch06/zero.hpp"

#include "ptt/error.hpp"

namespace ptt::ch06 {

// TODO(06.2): the ZeRO-1 step. On return every rank of `dp` must hold the same parameters as
// plain data parallelism would (all-reduce the gradients, then every rank applies the full
// update), while this rank's optimizer has seen only its own shard, zero_shard(), of the
// parameters and of the summed gradient. The shards of all ranks together cover the buffer
// exactly once, and uneven sizes are allowed.
void zero1_step(std::span<float> params, std::span<float> grads, std::span<float> shard_grads,
                Optimizer& shard_optimizer, MPI_Comm dp) {
  (void)params;
  (void)grads;
  (void)shard_grads;
  (void)shard_optimizer;
  (void)dp;
}

}  // namespace ptt::ch06
