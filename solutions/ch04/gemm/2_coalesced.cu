// 2_coalesced.cu — GEMM v2: v1 with the thread indices swapped (--kernel coalesced).
//
// Each thread does K multiply-adds from global memory. threadIdx.x walks ALONG a row of C, so a
// warp reads one row of A (a broadcast) and 32 consecutive elements of B and C: coalesced.
// 1_naive.cu is the same work with the indices the other way round: diff the two files.
#include "ch04/gemm/stages.hpp"
#include "ptt_emu/launch.hpp"

namespace ptt::ch04 {
namespace {

__global__ void gemm_coalesced(GemmProblem p) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;  // consecutive threads: consecutive COLUMNS
  const int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= p.M || col >= p.N) return;
  float acc = 0.0f;
  for (int k = 0; k < p.K; ++k) acc += p.A.at(row, k) * p.B.at(k, col);
  p.C[p.c_offset(row, col)] = acc;
}

}  // namespace

void launch_gemm_coalesced(const GemmProblem& p, cudaStream_t stream) {
  PTT_LAUNCH(gemm_coalesced, dim3(blocks(p.N, 32), blocks(p.M, 32)), dim3(32, 32), 0, stream)(p);
}

}  // namespace ptt::ch04
