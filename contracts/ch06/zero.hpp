// contracts/ch06/zero.hpp — chapter 06's second contract (solutions/ch06/zero.cpp and
// exercises/ch06/zero.cpp implement it, TODO(06.2)): ZeRO stage 1, the optimizer state sharded
// over the data-parallel group.
//
// Plain data parallelism keeps on each of the p replicas the same parameters (Psi floats), the
// same summed gradient and the same optimizer state (k Psi floats: k = 1 for SGD's velocity,
// k = 2 for Adam's m and v), and every replica performs the same update. ZeRO-1 (Rajbhandari et
// al., 2020) removes the repetition in the update: rank r owns the shard
//
//     [begin_r, end_r) = ptt::shard_range(Psi, r, p)     (sizes within one, lower ranks larger)
//
// of the buffer, keeps optimizer state for it only (k Psi / p floats), and one step is
//
//     1. reduce-scatter: the sum over the ranks of the gradients, but only shard r arrives on
//        rank r  (MPI_Reduce_scatter; (p-1)/p Psi floats sent per rank, half an all-reduce);
//     2. update: rank r updates params[begin_r, end_r) from its summed gradient shard, with its
//        own optimizer (created for end_r - begin_r floats);
//     3. all-gather: every rank receives every other rank's updated shard (MPI_Allgatherv,
//        the other half of an all-reduce).
//
// The same bytes travel as in an all-reduce, the update costs 1/p, and the optimizer state per
// rank is k Psi / p. The parameters end equal to plain data parallelism's (the summation order of
// step 1 may differ from an all-reduce's: see the chapter's tests).
#pragma once

#include <mpi.h>

#include <span>

#include "ptt/data.hpp"
#include "ptt/optim.hpp"

namespace ptt::ch06 {

/// @brief The shard of a buffer of @p n floats that rank @p rank of @p ranks owns under ZeRO:
/// ptt::shard_range(n, rank, ranks).
inline Range zero_shard(std::size_t n, int rank, int ranks) { return shard_range(n, rank, ranks); }

/// @brief One ZeRO-1 step over the data-parallel group @p dp (steps 1-3 above).
/// @param params         the rank's parameters, the same on every rank of @p dp; updated in place,
///                       and the same again on every rank on return.
/// @param grads          this rank's gradient contribution (the sum over the ranks is the
///                         gradient to apply); the same length as @p params. May be overwritten.
/// @param shard_grads    scratch for this rank's summed gradient shard (zero_shard()'s size).
/// @param shard_optimizer the optimizer of this rank's shard (created for zero_shard()'s size);
///                       its step() is called once.
/// @param dp             the data-parallel group; a rank's rank in it picks its shard.
void zero1_step(std::span<float> params, std::span<float> grads, std::span<float> shard_grads,
                Optimizer& shard_optimizer, MPI_Comm dp);

}  // namespace ptt::ch06
