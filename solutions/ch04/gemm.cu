// gemm.cu — C[M, N] = op(A)[M, K] · op(B)[K, N] in FP32, from a naive kernel to near cuBLAS.
//
// The stages, one file each under solutions/ch04/gemm/ (each validated against the CPU reference
// before it is timed; run one with  ch04_gemm --kernel NAME --m 4096 --n 4096 --k 4096, all with
// ch04_gemm --sweep); diff two consecutive files to see one lesson:
//   v1 naive       gemm/1_naive.cu: one thread per C element; threadIdx.x walks DOWN a column of
//                  C, so a warp reads 32 different rows of A and writes 32 rows of C: uncoalesced.
//                  (--kernel naive)
//   v2 coalesced   gemm/2_coalesced.cu: the same work, threadIdx.x walks ALONG a row of C: a warp
//                  reads one row of A (a broadcast) and 32 consecutive elements of B and C:
//                  coalesced. (--kernel coalesced)
//   v3 smem        gemm/3_smem.cu: 32x32 tiles of A and B staged in shared memory: each global
//                  element is read 32x less often (the two phases are declared in
//                  contracts/ch04/smem_tile.hpp; exercise 04.1/04.2 is exercises/ch04/3_smem.cu,
//                  which replaces this file in the exercise build). (--kernel smem)
//   v4 blocked2d   gemm/4_blocked2d.cu: a 128x128 tile of C per block, 8x8 outputs per thread
//                  held in registers: each shared-memory value loaded into a register feeds 8
//                  multiply-adds (the register step is declared in contracts/ch04/register_tile.hpp;
//                  exercise 04.4 is exercises/ch04/4_blocked2d.cu, which replaces this file in the
//                  exercise build). (--kernel blocked2d)
//   v5 vectorized  gemm/5_vectorized.cu: v4 with 128-bit (float4) global loads and stores (v4's
//                  shared-memory reads are 128-bit already: see the PTX, scripts/ptx_vector_ops.sh),
//                  and the next tile's loads issued before the current tile's math; falls back
//                  to scalar accesses at the matrix edges and for misaligned rows, so odd shapes
//                  (K or N not a multiple of 4, the MLP's 10 outputs) stay correct.
//                  (--kernel vectorized)
//   v6 warptiled   gemm/6_warptiled.cu: v5 with k-tiles of 16 double-buffered in shared memory (one
//                  barrier per k-tile), warp tiling (each lane a 2x2 grid of 4x4 outputs: no bank
//                  conflicts on the tile reads), padded tile rows, __launch_bounds__(256, 2).
//                  (--kernel warptiled)
//   v7 cublas      here: cuBLAS SGEMM (FP32), row-major through the column-major identity
//                  C^T = B^T A^T. (--kernel cublas)
//   v8 cublas-tf32 here: cuBLAS on the tensor cores with TF32 inputs (10-bit mantissa): beyond
//                  FP32, shown for scale, never used for training here. (--kernel cublas-tf32)
// This file holds cuBLAS, the CPU reference, the kernels' names and the version switch, gemm();
// each stage's launcher is declared in gemm/stages.hpp.
//
// Arithmetic intensity: a GEMM does 2MNK flops on (MK + KN + MN) * 4 bytes; at 4096^3 that is
// 683 flop/byte, far right of the H100's ridge (~51 TFLOP/s / ~3 TB/s = 17 flop/byte), so a good
// kernel is compute-bound. v1-v2 are bound by the memory traffic they re-do; tiling (v3-v5)
// removes the re-reads. The README works through the numbers.
#include <cstddef>
#include <vector>

#include "ch04/cuda_check.hpp"
#include "ch04/gemm.hpp"
#include "ch04/gemm/stages.hpp"

namespace ptt::ch04 {
namespace {

// ---------------------------------------------------------------------------------------------
// v7/v8 cuBLAS. cuBLAS is column-major; a row-major [R, C] matrix is the column-major [C, R]
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
  static const std::vector<std::string> names{"naive",      "coalesced", "smem",   "blocked2d",
                                              "vectorized", "warptiled", "cublas", "cublas-tf32"};
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
      launch_gemm_naive(p, stream);
      break;
    case GemmKernel::Coalesced:
      launch_gemm_coalesced(p, stream);
      break;
    case GemmKernel::Smem:
      launch_gemm_smem(p, stream);
      break;
    case GemmKernel::Blocked2d:
      launch_gemm_blocked2d(p, stream);
      break;
    case GemmKernel::Vectorized:
      launch_gemm_vectorized(p, stream);
      break;
    case GemmKernel::Warptiled:
      launch_gemm_warptiled(p, stream);
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

}  // namespace ptt::ch04
