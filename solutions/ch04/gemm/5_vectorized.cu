// 5_vectorized.cu — GEMM v5: v4 with 128-bit (float4) global loads and stores, and the next
// tile's loads issued before the current tile's math (the float4 shared-memory reads below only
// spell out what nvcc already does for v4: scripts/ptx_vector_ops.sh counts both); falls
// back to scalar accesses at the matrix edges and for misaligned rows, so odd shapes (K or N not
// a multiple of 4, the MLP's 10 outputs) stay correct (--kernel vectorized).
//
// A BM x BN tile of C per block of 256 threads, TM x TN outputs per thread. Per k-tile of BK,
// every thread loads one 4-element chunk of A's tile and one of B's (along each operand's
// contiguous storage dimension, whichever layout it has), then does BK * TM * TN multiply-adds
// from registers. This file is 4_blocked2d.cu plus v5's changes: diff the two (v4's register
// step, register_tile_accumulate, is a function of its own for exercise 04.4; here it is written
// in the kernel, with float4 reads of the tiles).
#include <cstddef>
#include <cstdint>

#include "ch04/gemm/stages.hpp"
#include "ptt_emu/launch.hpp"

namespace ptt::ch04 {
namespace {

constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8;
constexpr int kBlockThreads = (BM / TM) * (BN / TN);  // 256
static_assert(BM * BK / 4 == kBlockThreads && BN * BK / 4 == kBlockThreads, "one chunk of 4 per thread");

/// Loads storage elements S[sr, sc .. sc+3] (0 outside rows x cols): one 128-bit load when the 4
/// elements are inside and 16-byte aligned, else 4 scalar loads.
__device__ inline void load4(const float* S, int ld, int rows, int cols, int sr, int sc, float out[4]) {
  if (sr < rows && sc + 3 < cols) {
    const float* ptr = S + static_cast<std::size_t>(sr) * ld + sc;
    if ((reinterpret_cast<std::uintptr_t>(ptr) & 15u) == 0) {
      const float4 v = *reinterpret_cast<const float4*>(ptr);
      out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
      return;
    }
  }
  for (int j = 0; j < 4; ++j)
    out[j] = (sr < rows && sc + j < cols) ? S[static_cast<std::size_t>(sr) * ld + sc + j] : 0.0f;
}

__global__ void __launch_bounds__(kBlockThreads) gemm_vectorized(GemmProblem p) {
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
  float a[TM], b[TN];
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
    // The NEXT tile's global loads, issued now: they are in flight during this tile's math
    // (register double buffering).
    if (k0 + BK < p.K) load_chunks(k0 + BK);
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      // Two 128-bit shared-memory reads per operand instead of eight 32-bit ones.
#pragma unroll
      for (int i = 0; i < TM; i += 4) {
        const float4 v = *reinterpret_cast<const float4*>(&As[k][tr * TM + i]);
        a[i] = v.x, a[i + 1] = v.y, a[i + 2] = v.z, a[i + 3] = v.w;
      }
#pragma unroll
      for (int j = 0; j < TN; j += 4) {
        const float4 v = *reinterpret_cast<const float4*>(&Bs[k][tc * TN + j]);
        b[j] = v.x, b[j + 1] = v.y, b[j + 2] = v.z, b[j + 3] = v.w;
      }
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
  // Write the TM x TN block (float4 where inside and aligned).
  for (int i = 0; i < TM; ++i) {
    const int row = bm + tr * TM + i;
    if (row >= p.M) break;
    float* crow = p.C + static_cast<std::size_t>(row) * p.ldc;
    for (int j = 0; j < TN; j += 4) {
      const int col = bn + tc * TN + j;
      if (col + 3 < p.N && (reinterpret_cast<std::uintptr_t>(crow + col) & 15u) == 0) {
        *reinterpret_cast<float4*>(crow + col) =
            make_float4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
      } else {
        for (int jj = 0; jj < 4 && col + jj < p.N; ++jj) crow[col + jj] = acc[i][j + jj];
      }
    }
  }
}

}  // namespace

void launch_gemm_vectorized(const GemmProblem& p, cudaStream_t stream) {
  PTT_LAUNCH(gemm_vectorized, dim3(blocks(p.N, BN), blocks(p.M, BM)), kBlockThreads, 0, stream)(p);
}

}  // namespace ptt::ch04
