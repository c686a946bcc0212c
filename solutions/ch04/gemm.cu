// gemm.cu — C[M, N] = op(A)[M, K] · op(B)[K, N] in FP32, from a naive kernel to near cuBLAS.
//
// The stages (each a kernel below, each validated against the CPU reference before it is timed;
// run one with  ch04_gemm --kernel NAME --m 4096 --n 4096 --k 4096, all with ch04_gemm --sweep):
//   v1 naive       one thread per C element; threadIdx.x walks DOWN a column of C, so a warp reads
//                  32 different rows of A and writes 32 rows of C: uncoalesced.
//                  (--kernel naive)
//   v2 coalesced   the same work, threadIdx.x walks ALONG a row of C: a warp reads one row of A
//                  (a broadcast) and 32 consecutive elements of B and C: coalesced. (--kernel coalesced)
//   v3 smem        32x32 tiles of A and B staged in shared memory: each global element is read
//                  32x less often (smem_tile.hpp holds the two phases; exercise 04.1/04.2).
//                  (--kernel smem)
//   v4 blocked2d   a 128x128 tile of C per block, 8x8 outputs per thread held in registers: each
//                  shared-memory value loaded into a register feeds 8 multiply-adds. (--kernel blocked2d)
//   v5 vectorized  v4 with 128-bit (float4) global loads and stores and float4 shared-memory reads,
//                  and the next tile's loads issued before the current tile's math; falls back to
//                  scalar accesses at the matrix edges and for misaligned rows, so odd shapes
//                  (K or N not a multiple of 4, the MLP's 10 outputs) stay correct.
//                  (--kernel vectorized)
//   v6 cublas      cuBLAS SGEMM (FP32), row-major through the column-major identity C^T = B^T A^T.
//                  (--kernel cublas)
//   v7 cublas-tf32 cuBLAS on the tensor cores with TF32 inputs (10-bit mantissa): beyond FP32,
//                  shown for scale, never used for training here. (--kernel cublas-tf32)
//
// Arithmetic intensity: a GEMM does 2MNK flops on (MK + KN + MN) * 4 bytes; at 4096^3 that is
// 683 flop/byte, far right of the H100's ridge (~51 TFLOP/s / ~3 TB/s = 17 flop/byte), so a good
// kernel is compute-bound. v1-v2 are bound by the memory traffic they re-do; tiling (v3-v5)
// removes the re-reads. The README works through the numbers.
#include <cstddef>
#include <cstdint>
#include <smem_tile.hpp>  // angle brackets: the exercise build puts exercises/ch04 first
#include <vector>

#include "cuda_check.hpp"
#include "gemm.hpp"

namespace ptt::cuda {
namespace {

// ---------------------------------------------------------------------------------------------
// v1 naive and v2 coalesced: one thread, one output, K multiply-adds from global memory.

__global__ void gemm_naive(GemmProblem p) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;  // consecutive threads: consecutive ROWS
  const int col = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= p.M || col >= p.N) return;
  float acc = 0.0f;
  for (int k = 0; k < p.K; ++k) acc += p.A.at(row, k) * p.B.at(k, col);
  p.C[row * p.ldc + col] = acc;
}

__global__ void gemm_coalesced(GemmProblem p) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;  // consecutive threads: consecutive COLUMNS
  const int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= p.M || col >= p.N) return;
  float acc = 0.0f;
  for (int k = 0; k < p.K; ++k) acc += p.A.at(row, k) * p.B.at(k, col);
  p.C[row * p.ldc + col] = acc;
}

// ---------------------------------------------------------------------------------------------
// v3 smem: the phases live in smem_tile.hpp (shared with the CPU emulator of the tests).

__global__ void gemm_smem(GemmProblem p) {
  __shared__ float As[kTile][kTile];
  __shared__ float Bs[kTile][kTile];
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

// ---------------------------------------------------------------------------------------------
// v4 blocked2d and v5 vectorized: a BM x BN tile of C per block of 256 threads, TM x TN outputs
// per thread. Per k-tile of BK, every thread loads one 4-element chunk of A's tile and one of B's
// (along each operand's contiguous storage dimension, whichever layout it has), then does
// BK * TM * TN multiply-adds from registers. v5 also loads the next tile during the math.

constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8;
constexpr int kBlockThreads = (BM / TM) * (BN / TN);  // 256
static_assert(BM * BK / 4 == kBlockThreads && BN * BK / 4 == kBlockThreads, "one chunk of 4 per thread");

/// Loads storage elements S[sr, sc .. sc+3] (0 outside rows x cols). kVec: one 128-bit load when
/// the 4 elements are inside and 16-byte aligned (else, and always for v4, 4 scalar loads).
template <bool kVec>
__device__ inline void load4(const float* S, int ld, int rows, int cols, int sr, int sc, float out[4]) {
  if (kVec && sr < rows && sc + 3 < cols) {
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

template <bool kVec>
__global__ void __launch_bounds__(kBlockThreads) gemm_blocktile(GemmProblem p) {
  __shared__ __align__(16) float As[BK][BM];  // op(A) tile, stored k-major: As[k][m]
  __shared__ __align__(16) float Bs[BK][BN];  // op(B) tile: Bs[k][n]
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
      load4<kVec>(p.A.data, p.A.ld, p.M, p.K, bm + a_row, k0 + a_col, ra);
    else
      load4<kVec>(p.A.data, p.A.ld, p.K, p.M, k0 + a_row, bm + a_col, ra);
    if (!p.B.trans)
      load4<kVec>(p.B.data, p.B.ld, p.K, p.N, k0 + b_row, bn + b_col, rb);
    else
      load4<kVec>(p.B.data, p.B.ld, p.N, p.K, bn + b_row, k0 + b_col, rb);
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
    // v5 issues the NEXT tile's global loads now, so they are in flight during this tile's math
    // (register double buffering); v4 loads after the math, waiting for memory each time.
    if (kVec && k0 + BK < p.K) load_chunks(k0 + BK);
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      if constexpr (kVec) {  // two 128-bit shared-memory reads per operand instead of eight 32-bit ones
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
      } else {
#pragma unroll
        for (int i = 0; i < TM; ++i) a[i] = As[k][tr * TM + i];
#pragma unroll
        for (int j = 0; j < TN; ++j) b[j] = Bs[k][tc * TN + j];
      }
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
    if (!kVec && k0 + BK < p.K) load_chunks(k0 + BK);
  }
  // Write the TM x TN block (float4 where inside and aligned).
  for (int i = 0; i < TM; ++i) {
    const int row = bm + tr * TM + i;
    if (row >= p.M) break;
    float* crow = p.C + static_cast<std::size_t>(row) * p.ldc;
    for (int j = 0; j < TN; j += 4) {
      const int col = bn + tc * TN + j;
      if (kVec && col + 3 < p.N && (reinterpret_cast<std::uintptr_t>(crow + col) & 15u) == 0) {
        *reinterpret_cast<float4*>(crow + col) =
            make_float4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
      } else {
        for (int jj = 0; jj < 4 && col + jj < p.N; ++jj) crow[col + jj] = acc[i][j + jj];
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// v6/v7 cuBLAS. cuBLAS is column-major; a row-major [R, C] matrix is the column-major [C, R]
// matrix of its transpose. So row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T:
// pass B first, A second, swap M and N, and keep each operand's own transpose flag.

void gemm_cublas(const GemmProblem& p, cudaStream_t stream, cublasHandle_t h, bool tf32) {
  PTT_CHECK(h != nullptr, "cuBLAS kernels need a cuBLAS handle");
  const float one = 1.0f, zero = 0.0f;
  const cublasOperation_t opA = p.A.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t opB = p.B.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  // cublasSetStream also resets a workspace given with cublasSetWorkspace (the trainer gives one so
  // that graph capture never allocates): only switch when the stream really changes.
  cudaStream_t current = nullptr;
  PTT_CUBLAS_CHECK(cublasGetStream(h, &current));
  if (current != stream) PTT_CUBLAS_CHECK(cublasSetStream(h, stream));
  if (!tf32) {
    PTT_CUBLAS_CHECK(
        cublasSgemm(h, opB, opA, p.N, p.M, p.K, &one, p.B.data, p.B.ld, p.A.data, p.A.ld, &zero, p.C, p.ldc));
  } else {
    PTT_CUBLAS_CHECK(cublasGemmEx(h, opB, opA, p.N, p.M, p.K, &one, p.B.data, CUDA_R_32F, p.B.ld, p.A.data,
                                  CUDA_R_32F, p.A.ld, &zero, p.C, CUDA_R_32F, p.ldc,
                                  CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
  }
}

unsigned blocks(int n, int per_block) { return static_cast<unsigned>((n + per_block - 1) / per_block); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// The CPU reference and the version switch.

void gemm_reference(const GemmProblem& p) {
  for (int i = 0; i < p.M; ++i)
    for (int j = 0; j < p.N; ++j) {
      double acc = 0.0;
      for (int k = 0; k < p.K; ++k)
        acc += static_cast<double>(p.A.at(i, k)) * static_cast<double>(p.B.at(k, j));
      p.C[static_cast<std::size_t>(i) * p.ldc + j] = static_cast<float>(acc);
    }
}

const std::vector<std::string>& gemm_kernel_names() {
  static const std::vector<std::string> names{"naive",      "coalesced", "smem",       "blocked2d",
                                              "vectorized", "cublas",    "cublas-tf32"};
  return names;
}

GemmKernel gemm_kernel_from_name(const std::string& name, const std::string& option) {
  const auto& names = gemm_kernel_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<GemmKernel>(i);
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : "|") + n;
  throw InputError(option + ": unknown GEMM kernel '" + name + "' (use " + all + ")");
}

std::string gemm_kernel_name(GemmKernel k) { return gemm_kernel_names().at(static_cast<std::size_t>(k)); }

void gemm(GemmKernel k, const GemmProblem& p, cudaStream_t stream, cublasHandle_t cublas) {
  if (p.M <= 0 || p.N <= 0) return;
  switch (k) {
    case GemmKernel::Naive:
      gemm_naive<<<dim3(blocks(p.M, 32), blocks(p.N, 32)), dim3(32, 32), 0, stream>>>(p);
      break;
    case GemmKernel::Coalesced:
      gemm_coalesced<<<dim3(blocks(p.N, 32), blocks(p.M, 32)), dim3(32, 32), 0, stream>>>(p);
      break;
    case GemmKernel::Smem:
      gemm_smem<<<dim3(blocks(p.N, kTile), blocks(p.M, kTile)), dim3(kTile, kTile), 0, stream>>>(p);
      break;
    case GemmKernel::Blocked2d:
      gemm_blocktile<false><<<dim3(blocks(p.N, BN), blocks(p.M, BM)), kBlockThreads, 0, stream>>>(p);
      break;
    case GemmKernel::Vectorized:
      gemm_blocktile<true><<<dim3(blocks(p.N, BN), blocks(p.M, BM)), kBlockThreads, 0, stream>>>(p);
      break;
    case GemmKernel::Cublas:
      gemm_cublas(p, stream, cublas, false);
      return;
    case GemmKernel::CublasTf32:
      gemm_cublas(p, stream, cublas, true);
      return;
  }
  PTT_CUDA_CHECK_LAUNCH();
}

}  // namespace ptt::cuda
