// 1_naive.cu — GEMM v1: one thread per C element (--kernel naive).
//
// Each thread does K multiply-adds from global memory. threadIdx.x walks DOWN a column of C, so a
// warp reads 32 different rows of A and writes 32 rows of C: uncoalesced. 2_coalesced.cu swaps
// the two thread indices: diff the two files.
#include "ch04/gemm/stages.hpp"
#include "ptt_emu/launch.hpp"

namespace ptt::ch04 {
namespace {

__global__ void gemm_naive(GemmProblem p) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;  // consecutive threads: consecutive ROWS
  const int col = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= p.M || col >= p.N) return;
  float acc = 0.0f;
  for (int k = 0; k < p.K; ++k) acc += p.A.at(row, k) * p.B.at(k, col);
  p.C[p.c_offset(row, col)] = acc;
}

}  // namespace

void launch_gemm_naive(const GemmProblem& p, cudaStream_t stream) {
  PTT_LAUNCH(gemm_naive, dim3(blocks(p.M, 32), blocks(p.N, 32)), dim3(32, 32), 0, stream)(p);
}

}  // namespace ptt::ch04
