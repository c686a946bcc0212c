// gemm.hpp — chapter 04's GEMM kernels, one per stage of optimisation, and cuBLAS as the yardstick.
//
// Every kernel computes C[M, N] = op(A)[M, K] · op(B)[K, N] (contracts/ch04/gemm_problem.hpp) for
// ANY shape (no multiple-of-the-tile requirement) and either layout of A and B, so every one of
// them can drive the trainer (ch04_cuda --gemm NAME). The stages (one file each in gemm/) are
// described in gemm.cu's top comment.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "ch04/gemm_problem.hpp"

namespace ptt::ch04 {

/// The GEMM implementations, in the order of the chapter.
enum class GemmKernel { Naive, Coalesced, Smem, Blocked2d, Vectorized, Warptiled, Cublas, CublasTf32 };

/// @brief Every kernel's name: "naive", "coalesced", "smem", "blocked2d", "vectorized", "warptiled",
/// "cublas", "cublas-tf32".
const std::vector<std::string>& gemm_kernel_names();
/// @brief The kernel called @p name. @throws InputError naming @p option and the valid names.
GemmKernel gemm_kernel_from_name(const std::string& name, const std::string& option);
/// @brief The name of @p k.
std::string gemm_kernel_name(GemmKernel k);

/// @brief Enqueues C = op(A) op(B) on @p stream with kernel @p k (and checks the launch).
/// @param k      which GEMM stage (or cuBLAS) computes it.
/// @param p      the shapes, layouts and device pointers of A, B and C.
/// @param stream the stream the kernel is enqueued on.
/// @param cublas a handle for the cuBLAS kernels (unused by the others; may be null for them).
void gemm(GemmKernel k, const GemmProblem& p, cudaStream_t stream, cublasHandle_t cublas);

/// @brief The CPU reference: C = op(A) op(B) with double accumulation, in host memory.
void gemm_reference(const GemmProblem& p);

}  // namespace ptt::ch04
