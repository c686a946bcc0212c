// 3_smem.cu — GEMM v3: 32x32 tiles of A and B staged in shared memory (--kernel smem).
//
// The two phases of one thread are declared, with their math, in contracts/ch04/smem_tile.hpp;
// exercises/ch04/3_smem.cu is this file with holes in them (TODO(04.1), TODO(04.2)). They are
// __host__ __device__ and not inline, so the CPU block emulator of the tests calls them too.
#include "ch04/smem_tile.hpp"
#include "ptt_emu/launch.hpp"

namespace ptt::ch04 {

PTT_HD void smem_load_tiles(const GemmProblem& p, int block_row, int block_col, int k0, int tx, int ty,
                            float (*As)[kTile], float (*Bs)[kTile]) {
  const int row = block_row * kTile + ty;
  const int col = block_col * kTile + tx;
  // Consecutive tx read consecutive k of A's row and consecutive columns of B's row: coalesced
  // when the operands are not transposed.
  As[ty][tx] = (row < p.M && k0 + tx < p.K) ? p.A.at(row, k0 + tx) : 0.0f;
  Bs[ty][tx] = (k0 + ty < p.K && col < p.N) ? p.B.at(k0 + ty, col) : 0.0f;
}

PTT_HD float smem_accumulate(int tx, int ty, const float (*As)[kTile], const float (*Bs)[kTile], float acc) {
  // As[ty][k] is the same address for the whole warp (a broadcast); Bs[k][tx] are 32 consecutive
  // words (32 banks): no bank conflicts.
  for (int k = 0; k < kTile; ++k) acc += As[ty][k] * Bs[k][tx];
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
