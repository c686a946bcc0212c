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
  // TODO(04.1): load this thread's element of each tile.
  //   row = block_row * kTile + ty, col = block_col * kTile + tx;
  //   As[ty][tx] = op(A)[row, k0 + tx]  (p.A.at(...)), or 0 when row >= p.M or k0 + tx >= p.K;
  //   Bs[ty][tx] = op(B)[k0 + ty, col]  (p.B.at(...)), or 0 when k0 + ty >= p.K or col >= p.N.
  static_cast<void>(p), static_cast<void>(block_row), static_cast<void>(block_col), static_cast<void>(k0);
  static_cast<void>(tx), static_cast<void>(ty), static_cast<void>(As), static_cast<void>(Bs);
}

PTT_HD float smem_accumulate(int tx, int ty, const float (*As)[kTile], const float (*Bs)[kTile], float acc) {
  // TODO(04.2): add this thread's dot product of row ty of As with column tx of Bs (kTile terms).
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
