// contracts/ch04/register_tile.hpp — chapter 04's contract for register blocking, the inner step of
// GEMM v4 (TODO(04.4)), which solutions/ch04/gemm/4_blocked2d.cu and exercises/ch04/4_blocked2d.cu
// implement, and v4's launcher, which gemm() calls for --kernel blocked2d.
//
// A block of 256 threads computes a BM x BN = 128 x 128 tile of C. Each thread owns a TM x TN = 8 x 8
// micro-tile of it, 64 accumulators held in registers: thread (tr, tc), 0 <= tr < BM/TM and
// 0 <= tc < BN/TN, owns rows tr*TM .. tr*TM + TM-1 and columns tc*TN .. tc*TN + TN-1 of the block's
// tile (the kernel's given store writes acc[i][j] to the i-th of those rows and the j-th of those
// columns). For each k-tile of BK = 8:
//   the loads (given)    every thread copies one 4-float chunk of op(A) and one of op(B) into the
//                        shared tiles As[k][m] = op(A)[bm + m, k0 + k] and Bs[k][n] = op(B)[k0 + k,
//                        bn + n], 0 outside the matrices (bm, bn: the block's first row and column);
//   __syncthreads()
//   the register step    register_tile_accumulate (this exercise);
//   __syncthreads()      — nobody may overwrite the tiles while others still read them.
//
// Why registers. For one k, the thread's TM x TN multiply-adds need TM values of op(A) (its TM rows,
// in As[k]) and TN values of op(B) (its TN columns, in Bs[k]), and every one of them is used more
// than once: each A value by TN products, each B value by TM. Read into registers once per k, they
// cost TM + TN shared-memory loads for TM * TN multiply-adds: (TM + TN) / (TM * TN) = 16 / 64 = 1/4
// load per multiply-add. Reading both factors of every product from shared memory, as v3 does (one
// output per thread, nothing to reuse), costs 2 per multiply-add: 8x the shared-memory traffic for
// the same flops. Registers are the only storage faster than shared memory, and 64 accumulators
// plus 16 operands fit in the 255 registers a thread may use.
//
// No bounds here: outside the matrices the tiles hold zeros (the loads put them there), so those
// products add nothing, and the store skips the accumulators of rows and columns outside C.
//
// Like the tiled GEMM's phases (smem_tile.hpp), the step is a plain (not inline) __host__ __device__
// function defined in the kernel's file: nvcc inlines it into the kernel (same file, one call site),
// so the accumulators stay in registers, and also emits a host symbol, so the CPU tests
// (tests/ch04/register_tile_test.cpp) call the same code without a GPU.
#pragma once

#include <cuda_runtime.h>

#include "ch04/gemm_problem.hpp"

// `#pragma unroll` in a __host__ __device__ function, for nvcc's device pass only: the host
// compiler does not know the pragma (-Wunknown-pragmas, an error with -Werror).
#ifdef __CUDA_ARCH__
#define PTT_UNROLL _Pragma("unroll")
#else
#define PTT_UNROLL
#endif

namespace ptt::ch04 {

/// Kernel v4's tile sizes.
namespace blocked2d {
inline constexpr int BM = 128;  ///< rows of C per block
inline constexpr int BN = 128;  ///< columns of C per block
inline constexpr int BK = 8;    ///< the k extent of the shared tiles As [BK][BM] and Bs [BK][BN]
inline constexpr int TM = 8;    ///< rows of C per thread (its micro-tile)
inline constexpr int TN = 8;    ///< columns of C per thread
}  // namespace blocked2d

/// @brief The register step of thread (@p tr, @p tc) for one k-tile: the outer products of the
/// tile's BK columns of A and rows of B, restricted to the thread's micro-tile, added to @p acc.
///
/// After the call, for every i < TM and j < TN,
///   acc[i][j] = (acc[i][j] before the call) + sum_{k < BK} As[k][tr*TM + i] * Bs[k][tc*TN + j],
/// that is, the accumulator of C[bm + tr*TM + i, bn + tc*TN + j] has gained this k-tile's
/// contribution (the accumulators are added to, never reset: they carry the earlier k-tiles). For
/// each k, the thread reads its TM values of As and its TN values of Bs from shared memory once,
/// into registers, and does its TM * TN multiply-adds from those; it reads no other element of the
/// tiles and writes nothing but @p acc.
/// @param tr  the thread's micro-tile row in the block, 0 <= tr < BM / TM.
/// @param tc  the thread's micro-tile column, 0 <= tc < BN / TN.
/// @param As  [BK][BM] the k-tile of op(A), k-major (As[k][m]); 0 outside op(A).
/// @param Bs  [BK][BN] the k-tile of op(B) (Bs[k][n]); 0 outside op(B).
/// @param acc [TM][TN] the thread's accumulators, updated in place.
PTT_HD void register_tile_accumulate(int tr, int tc, const float (*As)[blocked2d::BM],
                                     const float (*Bs)[blocked2d::BN],
                                     float (&acc)[blocked2d::TM][blocked2d::TN]);

/// @brief Enqueues kernel v4 on @p stream: a grid of ceil(N/BN) x ceil(M/BM) blocks of 256 threads,
/// each looping over the k-tiles (loads, register_tile_accumulate), then storing its micro-tile.
/// The launch is not checked here: gemm() checks it.
void launch_gemm_blocked2d(const GemmProblem& p, cudaStream_t stream);

}  // namespace ptt::ch04
