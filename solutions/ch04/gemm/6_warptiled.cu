// 6_warptiled.cu — GEMM v6: v5's 128x128 block tile, with the limits a reading of v5 found removed
// (--kernel warptiled):
//   - k-tiles of 16 instead of 8, DOUBLE-BUFFERED in shared memory: while the block multiplies
//     out of one buffer it stores the next tile into the other, so ONE __syncthreads per k-tile
//     (v5: two per 8) separates 1024 multiply-adds per thread instead of 512 per two barriers;
//   - warp tiling: each of the 8 warps owns a 64x32 piece of the block tile, and each lane a 2x2
//     grid of 4x4 outputs inside it, 16 rows or columns apart. The 32 lanes of a warp then read
//     8 consecutive float4 of A's tile and 4 consecutive float4 of B's per k: no bank conflicts
//     (v5's lanes read B 32 bytes apart: a 2-way conflict on every B read);
//   - the tiles' rows padded by 4 floats, which spreads the transposed stores of A (and of a
//     transposed B) over twice as many banks, and keeps every row 16-byte aligned for float4;
//   - __launch_bounds__(256, 2): at most 128 registers per thread, so two blocks fit on an SM.
// Edges and odd shapes as v5: loads outside the matrices give 0, float4 only where inside and
// aligned. This file is 5_vectorized.cu with these changes: diff the two.
#include <cstddef>
#include <cstdint>

#include "ch04/gemm/stages.hpp"
#include "ptt_emu/launch.hpp"

namespace ptt::ch04 {
namespace {

constexpr int BM = 128, BN = 128, BK = 16;
constexpr int WM = 64, WN = 32;                          // a warp's piece of the block tile
constexpr int kWarpsN = BN / WN;                         // 4 (and BM / WM = 2 down)
constexpr int kBlockThreads = (BM / WM) * kWarpsN * 32;  // 256
constexpr int kPad = 4;                                  // floats added to each tile row
constexpr int kChunks = BM * BK / 4 / kBlockThreads;     // 4-float chunks per thread per tile: 2
static_assert(BM * BK == BN * BK && kChunks * kBlockThreads * 4 == BM * BK, "whole chunks per thread");

/// Loads storage elements S[sr, sc .. sc+3] (0 outside rows x cols): one 128-bit load when the 4
/// elements are inside and 16-byte aligned, else 4 scalar loads (as v5).
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

__global__ void __launch_bounds__(kBlockThreads, 2) gemm_warptiled(GemmProblem p) {
  // Two buffers of each tile, k-major: As[buf][k][m], Bs[buf][k][n].
  PTT_SHARED_ALIGNED(16, float, As, [2][BK][BM + kPad]);
  PTT_SHARED_ALIGNED(16, float, Bs, [2][BK][BN + kPad]);
  const int tid = static_cast<int>(threadIdx.x);
  const int bm = static_cast<int>(blockIdx.y) * BM, bn = static_cast<int>(blockIdx.x) * BN;
  const int warp = tid / 32, lane = tid % 32;
  const int wm = (warp / kWarpsN) * WM, wn = (warp % kWarpsN) * WN;  // the warp's piece
  const int lr = lane / 4, lc = lane % 4;  // the lane's 4x4 blocks: rows lr*4 (+32), cols lc*4 (+16)

  // This thread's chunks of each tile: chunk c = tid + 256 i, along each operand's contiguous
  // storage dimension. Storage of A is M x K (along k) or, transposed, K x M (along m); B is K x N
  // (along n) or, transposed, N x K (along k).
  float ra[kChunks][4], rb[kChunks][4];
  auto load_chunks = [&](int k0) {
    for (int i = 0; i < kChunks; ++i) {
      const int c = tid + i * kBlockThreads;
      if (!p.A.trans)
        load4(p.A.data, p.A.ld, p.M, p.K, bm + c / (BK / 4), k0 + (c % (BK / 4)) * 4, ra[i]);
      else
        load4(p.A.data, p.A.ld, p.K, p.M, k0 + c / (BM / 4), bm + (c % (BM / 4)) * 4, ra[i]);
      if (!p.B.trans)
        load4(p.B.data, p.B.ld, p.K, p.N, k0 + c / (BN / 4), bn + (c % (BN / 4)) * 4, rb[i]);
      else
        load4(p.B.data, p.B.ld, p.N, p.K, bn + c / (BK / 4), k0 + (c % (BK / 4)) * 4, rb[i]);
    }
  };
  auto store_chunks = [&](int buf) {
    for (int i = 0; i < kChunks; ++i) {
      const int c = tid + i * kBlockThreads;
      for (int j = 0; j < 4; ++j) {
        if (!p.A.trans)
          As[buf][(c % (BK / 4)) * 4 + j][c / (BK / 4)] = ra[i][j];
        else
          As[buf][c / (BM / 4)][(c % (BM / 4)) * 4 + j] = ra[i][j];
        if (!p.B.trans)
          Bs[buf][c / (BN / 4)][(c % (BN / 4)) * 4 + j] = rb[i][j];
        else
          Bs[buf][(c % (BK / 4)) * 4 + j][c / (BK / 4)] = rb[i][j];
      }
    }
  };

  float acc[2][2][4][4] = {};  // [row block][column block][row][column]
  float a[2][4], b[2][4];
  load_chunks(0);
  store_chunks(0);
  __syncthreads();
  for (int k0 = 0, buf = 0; k0 < p.K; k0 += BK, buf ^= 1) {
    const bool more = k0 + BK < p.K;
    if (more) load_chunks(k0 + BK);  // in flight during the math below
#pragma unroll
    for (int k = 0; k < BK; ++k) {
#pragma unroll
      for (int s = 0; s < 2; ++s) {
        const float4 va = *reinterpret_cast<const float4*>(&As[buf][k][wm + s * 32 + lr * 4]);
        a[s][0] = va.x, a[s][1] = va.y, a[s][2] = va.z, a[s][3] = va.w;
        const float4 vb = *reinterpret_cast<const float4*>(&Bs[buf][k][wn + s * 16 + lc * 4]);
        b[s][0] = vb.x, b[s][1] = vb.y, b[s][2] = vb.z, b[s][3] = vb.w;
      }
#pragma unroll
      for (int sr = 0; sr < 2; ++sr)
#pragma unroll
        for (int sc = 0; sc < 2; ++sc)
#pragma unroll
          for (int i = 0; i < 4; ++i)
#pragma unroll
            for (int j = 0; j < 4; ++j) acc[sr][sc][i][j] += a[sr][i] * b[sc][j];
    }
    // The other buffer was last read before the previous barrier: it can be overwritten now.
    if (more) store_chunks(buf ^ 1);
    __syncthreads();
  }
  // Write the lane's 2x2 blocks of 4x4 (float4 where inside and aligned).
  for (int sr = 0; sr < 2; ++sr) {
    for (int i = 0; i < 4; ++i) {
      const int row = bm + wm + sr * 32 + lr * 4 + i;
      if (row >= p.M) break;
      float* crow = p.C + static_cast<std::size_t>(row) * p.ldc;
      for (int sc = 0; sc < 2; ++sc) {
        const int col = bn + wn + sc * 16 + lc * 4;
        const float* v = acc[sr][sc][i];
        if (col + 3 < p.N && (reinterpret_cast<std::uintptr_t>(crow + col) & 15u) == 0) {
          *reinterpret_cast<float4*>(crow + col) = make_float4(v[0], v[1], v[2], v[3]);
        } else {
          for (int jj = 0; jj < 4 && col + jj < p.N; ++jj) crow[col + jj] = v[jj];
        }
      }
    }
  }
}

}  // namespace

void launch_gemm_warptiled(const GemmProblem& p, cudaStream_t stream) {
  PTT_LAUNCH(gemm_warptiled, dim3(blocks(p.N, BN), blocks(p.M, BM)), kBlockThreads, 0, stream)(p);
}

}  // namespace ptt::ch04
