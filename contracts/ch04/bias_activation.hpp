// contracts/ch04/bias_activation.hpp — chapter 04's contract for the forward epilogue of a Linear
// layer on the GPU: Y = ReLU(Y + b) in ONE kernel (TODO(04.3)), which
// solutions/ch04/bias_activation.cu and exercises/ch04/bias_activation.cu implement. The trainer
// (solutions/ch04/device_trainer.cpp) launches it after every layer's GEMM, so
// -DPTT_CH04_USE_EXERCISE=ON trains through the learner's version.
//
// Why fused: the bias and the ReLU are each one add or compare per element, far cheaper than moving
// the element. As two kernels, Y would cross the memory bus four times (read, write for the bias;
// read, write for the ReLU); fused, twice. The epilogue is bound by memory, so that is twice as fast.
// No mask is stored for the backward pass: after the ReLU, a > 0 exactly where z + b > 0, so
// relu_backward reads the activation itself.
//
// Why one element per thread, in memory order: the 32 threads of a warp issue their loads
// together. When lane j reads the float right after lane j-1's, the warp's 32 floats are one
// 128-byte stretch, fetched in one transaction; in any other order (a column of a row-major matrix,
// say) the same warp needs up to 32.
//
// Like the tiled GEMM's phases (smem_tile.hpp), the per-thread work is a plain (not inline)
// __host__ __device__ function, so the CPU tests (tests/ch04/bias_activation_test.cpp) run the
// learner's code for every thread of a grid without a GPU.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "ch04/gemm_problem.hpp"  // PTT_HD

namespace ptt::ch04 {

/// @brief One thread's share of Y[r, c] = act(Y[r, c] + b[c]), act = ReLU (max(v, 0)) when @p relu,
/// else the identity (the logits).
///
/// Y is [rows, cols] row-major, so element (r, c) is Y[i] with i = r * cols + c. Thread @p thread
/// of a grid of @p threads threads owns the elements whose index i < rows * cols satisfies
/// i = thread + m * threads for some m >= 0 (a grid-stride loop: any grid covers any Y), and
/// touches no other element of Y: consecutive threads own consecutive floats. Each owned element
/// is read once and written once; the bias is added first, the ReLU applied to the sum.
/// rows == 0 (an empty batch) touches nothing.
/// @param Y       [rows, cols] the layer's output z, replaced by the activation (in place).
/// @param b       [cols] the bias.
/// @param rows    the batch rows.
/// @param cols    the layer's outputs.
/// @param relu    apply the ReLU (every layer but the last).
/// @param thread  this thread's index in the grid, blockIdx.x * blockDim.x + threadIdx.x.
/// @param threads the grid's thread count, gridDim.x * blockDim.x.
PTT_HD void bias_activation_thread(float* Y, const float* b, int rows, int cols, bool relu,
                                   std::size_t thread, std::size_t threads);

/// @brief Enqueues the fused epilogue on @p stream: a 1-D grid whose threads each run
/// bias_activation_thread. The launch is not checked here: the caller checks it
/// (PTT_CUDA_CHECK_LAUNCH, solutions/ch04/cuda_check.hpp). (Given, not part of the exercise.)
void bias_activation(float* Y, const float* b, int rows, int cols, bool relu, cudaStream_t stream);

}  // namespace ptt::ch04
