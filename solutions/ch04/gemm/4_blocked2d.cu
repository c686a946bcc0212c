// 4_blocked2d.cu — GEMM v4: a 128x128 tile of C per block, 8x8 outputs per thread held in
// registers: each shared-memory value loaded into a register feeds 8 multiply-adds
// (--kernel blocked2d).
//
// A BM x BN tile of C per block of 256 threads, TM x TN outputs per thread. Per k-tile of BK,
// every thread loads one 4-element chunk of A's tile and one of B's (along each operand's
// contiguous storage dimension, whichever layout it has), then does BK * TM * TN multiply-adds
// from registers: register_tile_accumulate, declared with its math and the reason for it in
// contracts/ch04/register_tile.hpp. exercises/ch04/4_blocked2d.cu is this file with that function
// left to write (TODO(04.4)); it is __host__ __device__ and not inline, so the CPU tests call it too.
// 5_vectorized.cu is this file plus v5's changes (with the register step written inline in its
// kernel): diff the two.
#include <cstddef>

#include "ch04/register_tile.hpp"
#include "ptt_emu/launch.hpp"

namespace ptt::ch04 {
namespace {
using blocked2d::BM, blocked2d::BN, blocked2d::BK, blocked2d::TM, blocked2d::TN;  // 128, 128, 8, 8, 8
}  // namespace

PTT_HD void register_tile_accumulate(int tr, int tc, const float (*As)[BM], const float (*Bs)[BN],
                                     float (&acc)[TM][TN]) {
  float a[TM], b[TN];  // this k's operands, in registers
  PTT_UNROLL
  for (int k = 0; k < BK; ++k) {
    // TM + TN shared-memory loads (the warp's threads with the same tr read the same words of As: a
    // broadcast), then TM * TN multiply-adds from registers.
    PTT_UNROLL
    for (int i = 0; i < TM; ++i) a[i] = As[k][tr * TM + i];
    PTT_UNROLL
    for (int j = 0; j < TN; ++j) b[j] = Bs[k][tc * TN + j];
    PTT_UNROLL
    for (int i = 0; i < TM; ++i) {
      PTT_UNROLL
      for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
    }
  }
}

namespace {

constexpr int kBlockThreads = (BM / TM) * (BN / TN);  // 256
static_assert(BM * BK / 4 == kBlockThreads && BN * BK / 4 == kBlockThreads, "one chunk of 4 per thread");

/// Loads storage elements S[sr, sc .. sc+3] (0 outside rows x cols) with 4 scalar loads.
__device__ inline void load4(const float* S, int ld, int rows, int cols, int sr, int sc, float out[4]) {
  for (int j = 0; j < 4; ++j)
    out[j] = (sr < rows && sc + j < cols) ? S[static_cast<std::size_t>(sr) * ld + sc + j] : 0.0f;
}

__global__ void __launch_bounds__(kBlockThreads) gemm_blocked2d(GemmProblem p) {
  PTT_SHARED_ALIGNED(16, float, As, [BK][BM]);  // op(A) tile, stored k-major: As[k][m]
  PTT_SHARED_ALIGNED(16, float, Bs, [BK][BN]);  // op(B) tile: Bs[k][n]
  const int tid = static_cast<int>(threadIdx.x);
  const int bm = static_cast<int>(blockIdx.y) * BM, bn = static_cast<int>(blockIdx.x) * BN;
  const int tr = tid / (BN / TN), tc = tid % (BN / TN);  // this thread's TM x TN block of the tile

  // This thread's chunk of each tile: which 4 storage elements, and where they go in the tile.
  // Storage of A is M x K (contiguous along k) or, transposed, K x M (along m); B is K x N
  // (along n) or, transposed, N x K (along k).
  const int a_row = !p.A.trans ? tid / (BK / 4) : tid / (BM / 4);  // m, or k when transposed
  const int a_col = !p.A.trans ? (tid % (BK / 4)) * 4 : (tid % (BM / 4)) * 4;
  const int b_row = !p.B.trans ? tid / (BN / 4) : tid / (BK / 4);  // k, or n when transposed
  const int b_col = !p.B.trans ? (tid % (BN / 4)) * 4 : (tid % (BK / 4)) * 4;
  float ra[4], rb[4];  // the chunks in registers, between global and shared memory
  auto load_chunks = [&](int k0) {
    if (!p.A.trans)
      load4(p.A.data, p.A.ld, p.M, p.K, bm + a_row, k0 + a_col, ra);
    else
      load4(p.A.data, p.A.ld, p.K, p.M, k0 + a_row, bm + a_col, ra);
    if (!p.B.trans)
      load4(p.B.data, p.B.ld, p.K, p.N, k0 + b_row, bn + b_col, rb);
    else
      load4(p.B.data, p.B.ld, p.N, p.K, bn + b_row, k0 + b_col, rb);
  };

  float acc[TM][TN] = {};
  load_chunks(0);
  for (int k0 = 0; k0 < p.K; k0 += BK) {
    for (int j = 0; j < 4; ++j) {
      if (!p.A.trans)
        As[a_col + j][a_row] = ra[j];
      else
        As[a_row][a_col + j] = ra[j];
      if (!p.B.trans)
        Bs[b_row][b_col + j] = rb[j];
      else
        Bs[b_col + j][b_row] = rb[j];
    }
    __syncthreads();
    register_tile_accumulate(tr, tc, As, Bs, acc);
    __syncthreads();
    // The next tile's global loads, after the math: the threads wait for memory each time.
    if (k0 + BK < p.K) load_chunks(k0 + BK);
  }
  // Write the TM x TN block.
  for (int i = 0; i < TM; ++i) {
    const int row = bm + tr * TM + i;
    if (row >= p.M) break;
    float* crow = p.C + static_cast<std::size_t>(row) * p.ldc;
    for (int j = 0; j < TN; j += 4) {
      const int col = bn + tc * TN + j;
      for (int jj = 0; jj < 4 && col + jj < p.N; ++jj) crow[col + jj] = acc[i][j + jj];
    }
  }
}

}  // namespace

void launch_gemm_blocked2d(const GemmProblem& p, cudaStream_t stream) {
  const auto blocks = [](int n, int per_block) {
    return static_cast<unsigned>((n + per_block - 1) / per_block);
  };
  PTT_LAUNCH(gemm_blocked2d, dim3(blocks(p.N, BN), blocks(p.M, BM)), kBlockThreads, 0, stream)(p);
}

}  // namespace ptt::ch04
