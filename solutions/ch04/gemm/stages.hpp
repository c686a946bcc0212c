// stages.hpp — the launchers of chapter 04's GEMM stages, one file each in solutions/ch04/gemm/
// (the story and the version switch are in solutions/ch04/gemm.cu). Each launcher enqueues its
// kernel for C = op(A) op(B) (contracts/ch04/gemm_problem.hpp) on a stream, for any shape and
// either layout of A and B; none checks the launch: gemm() does, after the switch.
//
// v3's and v4's launchers, launch_gemm_smem and launch_gemm_blocked2d, are declared in their
// contracts (contracts/ch04/smem_tile.hpp, contracts/ch04/register_tile.hpp, included here) because
// their files are the ones the exercises replace.
#pragma once

#include <cuda_runtime.h>

#include "ch04/gemm_problem.hpp"
#include "ch04/register_tile.hpp"
#include "ch04/smem_tile.hpp"

namespace ptt::ch04 {

/// @brief v1 (1_naive.cu): one thread per C element, threadIdx.x walking down a column of C.
void launch_gemm_naive(const GemmProblem& p, cudaStream_t stream);
/// @brief v2 (2_coalesced.cu): one thread per C element, threadIdx.x walking along a row of C.
void launch_gemm_coalesced(const GemmProblem& p, cudaStream_t stream);
/// @brief v5 (5_vectorized.cu): v4 with float4 accesses and the next tile loaded during the math.
void launch_gemm_vectorized(const GemmProblem& p, cudaStream_t stream);
void launch_gemm_warptiled(const GemmProblem& p, cudaStream_t stream);

/// @brief The number of blocks of @p per_block that cover @p n (a grid dimension).
inline unsigned blocks(int n, int per_block) {
  return static_cast<unsigned>((n + per_block - 1) / per_block);
}

}  // namespace ptt::ch04
