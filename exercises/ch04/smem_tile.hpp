// smem_tile.hpp — EXERCISE (chapter 04): the two phases of one thread in the shared-memory tiled GEMM (kernel
// v3).
//
// A block of kTile x kTile threads computes a kTile x kTile tile of C. For each k-tile:
//   phase 1  every thread copies ONE element of A's tile and ONE of B's tile into shared memory
//            (zero outside the matrices, so odd shapes need no special case later);
//   __syncthreads()   — the tiles are complete;
//   phase 2  every thread accumulates its output element over the kTile products of the tile;
//   __syncthreads()   — nobody may overwrite the tiles while others still read them.
// Each element of A and B is then read from global memory M/kTile (resp. N/kTile) times fewer.
//
// The phases are plain __host__ __device__ functions so that the kernel (gemm.cu) and a CPU
// "block emulator" in the tests (tests/ch04/smem_emulator_test.cpp) run the SAME code: the
// emulator runs phase 1 for all threads of a block, then phase 2 for all threads — exactly what
// __syncthreads guarantees — so this exercise is testable without a GPU.
//
// Thread (tx, ty) of block (block_row, block_col) owns C[block_row*kTile + ty, block_col*kTile + tx].
#pragma once

#include "gemm_problem.hpp"  // from solutions/ch04 (not part of the exercise)

namespace ptt::cuda {

inline constexpr int kTile = 32;  ///< tile edge: 32 x 32 threads = 1024, the most a block may have

/// @brief Phase 1: thread (tx, ty) loads As[ty][tx] = op(A)[row, k0 + tx] and
/// Bs[ty][tx] = op(B)[k0 + ty, col] (row, col: the thread's output element), 0 outside the matrices.
PTT_HD inline void smem_load_tiles(const GemmProblem& p, int block_row, int block_col, int k0, int tx, int ty,
                                   float (*As)[kTile], float (*Bs)[kTile]) {
  // TODO(04.1): load this thread's element of each tile.
  //   row = block_row * kTile + ty, col = block_col * kTile + tx;
  //   As[ty][tx] = op(A)[row, k0 + tx]  (p.A.at(...)), or 0 when row >= p.M or k0 + tx >= p.K;
  //   Bs[ty][tx] = op(B)[k0 + ty, col]  (p.B.at(...)), or 0 when k0 + ty >= p.K or col >= p.N.
  static_cast<void>(p), static_cast<void>(block_row), static_cast<void>(block_col), static_cast<void>(k0);
  static_cast<void>(tx), static_cast<void>(ty), static_cast<void>(As), static_cast<void>(Bs);
}

/// @brief Phase 2: thread (tx, ty) adds the tile's contribution sum_k As[ty][k] * Bs[k][tx] to @p acc.
/// @return the new accumulator.
PTT_HD inline float smem_accumulate(int tx, int ty, const float (*As)[kTile], const float (*Bs)[kTile],
                                    float acc) {
  // TODO(04.2): add this thread's dot product of row ty of As with column tx of Bs (kTile terms).
  static_cast<void>(tx), static_cast<void>(ty), static_cast<void>(As), static_cast<void>(Bs);
  return acc;
}

/// @brief After the last k-tile: thread (tx, ty) writes its element of C, if it lies inside C.
PTT_HD inline void smem_store(const GemmProblem& p, int block_row, int block_col, int tx, int ty, float acc) {
  const int row = block_row * kTile + ty;
  const int col = block_col * kTile + tx;
  if (row < p.M && col < p.N) p.C[row * p.ldc + col] = acc;
}

}  // namespace ptt::cuda
