// 3_smem.cu — EXERCISE (chapter 04): GEMM v3, 32x32 tiles of A and B staged in shared memory
// (--kernel smem).
//
// Write the two phases of one thread, declared with their math in contracts/ch04/smem_tile.hpp
// (read its top comment first): TODO(04.1) loads the tiles, TODO(04.2) accumulates. The kernel
// and its launcher below are given. The phases are __host__ __device__ and not inline, so the
// CPU block emulator of the tests (tests/ch04/smem_emulator_test.cpp) calls your code too: the
// exercise is tested without a GPU.
#include "ch04/smem_tile.hpp"
#include "ptt_emu/launch.hpp"

namespace ptt::ch04 {

PTT_HD void smem_load_tiles(const GemmProblem& p, int block_row, int block_col, int k0, int tx, int ty,
                            float (*As)[kTile], float (*Bs)[kTile]) {
  // TODO(04.1): phase 1, this thread's share of staging the k-tile that starts at column k0 of
  //   op(A) and row k0 of op(B).
  //   What it must do: once every thread of the block has run it, As holds the kTile x kTile
  //   piece of op(A) whose rows are this block's rows of C and whose columns are k0 .. k0+kTile-1,
  //   and Bs the piece of op(B) with rows k0 .. k0+kTile-1 and this block's columns of C, laid out
  //   so that phase 2's As[ty][k] * Bs[k][tx] pairs the right elements; every place that falls
  //   outside op(A) or op(B) (odd shapes, the last k-tile) holds 0, so phase 2 never branches.
  //   Each thread writes exactly one element of each tile and reads only through p.A / p.B
  //   (Operand::at takes care of transposes). Which thread loads which element is yours to
  //   choose, but a warp's 32 loads are fastest when they touch consecutive addresses.
  //   Stuck? exercises/ch04/HINTS.md.
  static_cast<void>(p), static_cast<void>(block_row), static_cast<void>(block_col), static_cast<void>(k0);
  static_cast<void>(tx), static_cast<void>(ty), static_cast<void>(As), static_cast<void>(Bs);
}

PTT_HD float smem_accumulate(int tx, int ty, const float (*As)[kTile], const float (*Bs)[kTile], float acc) {
  // TODO(04.2): phase 2. Return acc plus this k-tile's contribution to the thread's element of C:
  //   the dot product of row ty of As with column tx of Bs (kTile terms, all from shared memory;
  //   the zeros of phase 1 make the terms outside the matrices vanish). Stuck? exercises/ch04/HINTS.md.
  static_cast<void>(tx), static_cast<void>(ty), static_cast<void>(As), static_cast<void>(Bs);
  return acc;
}

namespace {

__global__ void gemm_smem(GemmProblem p) {
  PTT_SHARED(float, As, [kTile][kTile]);
  PTT_SHARED(float, Bs, [kTile][kTile]);
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int block_row = static_cast<int>(blockIdx.y), block_col = static_cast<int>(blockIdx.x);
  float acc = 0.0f;
  for (int k0 = 0; k0 < p.K; k0 += kTile) {
    smem_load_tiles(p, block_row, block_col, k0, tx, ty, As, Bs);
    __syncthreads();
    acc = smem_accumulate(tx, ty, As, Bs, acc);
    __syncthreads();
  }
  smem_store(p, block_row, block_col, tx, ty, acc);
}

}  // namespace

void launch_gemm_smem(const GemmProblem& p, cudaStream_t stream) {
  const auto blocks = [](int n) { return static_cast<unsigned>((n + kTile - 1) / kTile); };
  PTT_LAUNCH(gemm_smem, dim3(blocks(p.N), blocks(p.M)), dim3(kTile, kTile), 0, stream)(p);
}

}  // namespace ptt::ch04
