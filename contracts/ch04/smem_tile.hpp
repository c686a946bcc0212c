// contracts/ch04/smem_tile.hpp — chapter 04's contract for the shared-memory tiled GEMM (kernel v3):
// the two phases of one thread, which solutions/ch04/gemm/3_smem.cu and exercises/ch04/3_smem.cu
// implement (TODO(04.1), TODO(04.2)), and the launcher that gemm() calls for --kernel smem.
//
// A block of kTile x kTile threads computes a kTile x kTile tile of C. For each k-tile:
//   phase 1  every thread copies ONE element of A's tile and ONE of B's tile into shared memory
//            (zero outside the matrices, so odd shapes need no special case later);
//   __syncthreads()   — the tiles are complete;
//   phase 2  every thread accumulates its output element over the kTile products of the tile;
//   __syncthreads()   — nobody may overwrite the tiles while others still read them.
// Each element of op(A) is then read from global memory N/kTile times instead of N (once per block
// column of C), and each element of op(B) M/kTile times instead of M: kTile times fewer.
//
// The phases are plain (not inline) __host__ __device__ functions defined in 3_smem.cu: nvcc
// compiles them for the kernel in that file AND emits a host symbol, so a CPU "block emulator" in
// the tests (tests/ch04/smem_emulator_test.cpp, host C++) calls the SAME code. The emulator runs
// phase 1 for all threads of a block, then phase 2 for all threads — exactly what __syncthreads
// guarantees — so this exercise is testable without a GPU.
//
// Thread (tx, ty) of block (block_row, block_col) owns C[block_row*kTile + ty, block_col*kTile + tx].
#pragma once

#include <cuda_runtime.h>

#include "ch04/gemm_problem.hpp"

namespace ptt::ch04 {

inline constexpr int kTile = 32;  ///< tile edge: 32 x 32 threads = 1024, the most a block may have

/// @brief Phase 1: thread (tx, ty)'s share of loading the k-tile at @p k0. Once every thread of the
/// block has run it, As[i][k] = op(A)[block_row*kTile + i, k0 + k] and
/// Bs[k][j] = op(B)[k0 + k, block_col*kTile + j] for all i, j, k < kTile, 0 outside the matrices;
/// each thread writes one element of each tile.
PTT_HD void smem_load_tiles(const GemmProblem& p, int block_row, int block_col, int k0, int tx, int ty,
                            float (*As)[kTile], float (*Bs)[kTile]);

/// @brief Phase 2: thread (tx, ty) adds the tile's contribution sum_k As[ty][k] * Bs[k][tx] to @p acc.
/// @return the new accumulator.
PTT_HD float smem_accumulate(int tx, int ty, const float (*As)[kTile], const float (*Bs)[kTile], float acc);

/// @brief After the last k-tile: thread (tx, ty) writes its element of C, if it lies inside C.
/// (Given, not part of the exercise.)
PTT_HD inline void smem_store(const GemmProblem& p, int block_row, int block_col, int tx, int ty, float acc) {
  const int row = block_row * kTile + ty;
  const int col = block_col * kTile + tx;
  if (row < p.M && col < p.N) p.C[p.c_offset(row, col)] = acc;
}

/// @brief Enqueues kernel v3 on @p stream: a grid of ceil(N/kTile) x ceil(M/kTile) blocks of
/// kTile x kTile threads, each running phase 1 and phase 2 per k-tile, then smem_store. The
/// launch is not checked here: gemm() checks it.
void launch_gemm_smem(const GemmProblem& p, cudaStream_t stream);

}  // namespace ptt::ch04
