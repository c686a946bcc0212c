// contracts/ch03/ring_allreduce.hpp — chapter 03's contract (solutions/ch03/ring_allreduce.cpp and
// exercises/ch03/ring_allreduce.cpp implement it): the ring allreduce, written with MPI_Sendrecv.
//
// p ranks each hold a buffer of n floats; afterwards every rank holds the element-wise sum.
// The buffer is cut into p segments (sizes within one of n/p: any n works, even n < p). The ranks
// form a ring, rank r sending to r+1 and receiving from r-1 (mod p).
//
//  1. Reduce-scatter, p-1 steps. In step s rank r sends segment (r - s) mod p to the right and
//     adds the segment (r - s - 1) mod p it receives from the left into its own. After p-1 steps
//     rank r holds the complete sum of segment (r + 1) mod p.
//  2. All-gather, p-1 steps. In step s rank r sends segment (r + 1 - s) mod p (complete) to the
//     right and stores the segment (r - s) mod p it receives. After p-1 steps every rank has every
//     complete segment.
//
// Each rank sends 2 (p-1) segments of n/p floats: 2 (p-1)/p n floats in all, independent of p
// for large p — the ring is bandwidth-optimal. In the alpha-beta model (alpha the latency of one
// message, B the bandwidth) it takes T = 2 (p-1) alpha + 2 (p-1)/p * n * 4 bytes / B.
// Every element of the result is computed on one rank and copied to the others, so all ranks
// hold the same bits.
#pragma once

#include <mpi.h>

#include <span>

#include "ptt/data.hpp"

namespace ptt::ch03 {

/// Segment k of a buffer of n floats split over p ranks (ptt::shard_range).
inline Range ring_segment(std::size_t n, int k, int p) { return shard_range(n, ((k % p) + p) % p, p); }

/// @brief Step 1: afterwards rank r holds the sum over all ranks of segment (r + 1) mod p of
/// @p data; the other segments hold partial sums.
void ring_reduce_scatter(std::span<float> data, MPI_Comm comm);

/// @brief Step 2: given that rank r holds the complete segment (r + 1) mod p, afterwards every
/// rank holds every complete segment.
void ring_all_gather(std::span<float> data, MPI_Comm comm);

/// @brief In-place sum of @p data over all ranks of @p comm: reduce-scatter, then all-gather.
inline void ring_allreduce(std::span<float> data, MPI_Comm comm) {
  ring_reduce_scatter(data, comm);
  ring_all_gather(data, comm);
}

}  // namespace ptt::ch03
