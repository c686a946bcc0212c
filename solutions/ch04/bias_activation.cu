// bias_activation.cu — the fused forward epilogue of a Linear layer: Y = ReLU(Y + b), one pass.
//
// The contract, and why fused and why this thread-to-element order, is in
// contracts/ch04/bias_activation.hpp; exercises/ch04/bias_activation.cu is this file with the
// per-thread function left to write (TODO(04.3)).
#include "ch04/bias_activation.hpp"
#include "ptt_emu/launch.hpp"

namespace ptt::ch04 {

PTT_HD void bias_activation_thread(float* Y, const float* b, int rows, int cols, bool relu,
                                   std::size_t thread, std::size_t threads) {
  const std::size_t width = static_cast<std::size_t>(cols);
  const std::size_t n = static_cast<std::size_t>(rows) * width;
  // Lane j of a warp takes i = thread + j: the warp reads and writes 32 consecutive floats.
  for (std::size_t i = thread; i < n; i += threads) {
    const float v = Y[i] + b[i % width];  // i % cols is the column of element i
    Y[i] = relu ? (v > 0.0f ? v : 0.0f) : v;
  }
}

namespace {

constexpr unsigned kThreads = 256;

__global__ void bias_activation_kernel(float* Y, const float* b, int rows, int cols, bool relu) {
  const std::size_t thread = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::size_t threads = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  bias_activation_thread(Y, b, rows, cols, relu, thread, threads);
}

}  // namespace

void bias_activation(float* Y, const float* b, int rows, int cols, bool relu, cudaStream_t stream) {
  // One thread per element up to 2^20 blocks; beyond that each thread loops (grid-stride).
  const std::size_t n =
      static_cast<std::size_t>(rows > 0 ? rows : 0) * static_cast<std::size_t>(cols > 0 ? cols : 0);
  const std::size_t blocks = (n + kThreads - 1) / kThreads;
  const unsigned grid = static_cast<unsigned>(blocks < (1u << 20) ? (blocks > 0 ? blocks : 1) : (1u << 20));
  PTT_LAUNCH(bias_activation_kernel, grid, kThreads, 0, stream)(Y, b, rows, cols, relu);
}

}  // namespace ptt::ch04
