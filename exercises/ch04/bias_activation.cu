// bias_activation.cu — EXERCISE (chapter 04): the fused forward epilogue of a Linear layer,
// Y = ReLU(Y + b) in one pass. The trainer ch04_cuda launches it after every layer's GEMM when built
// with -DPTT_CH04_USE_EXERCISE=ON.
//
// Write bias_activation_thread, declared with its contract in contracts/ch04/bias_activation.hpp
// (read its top comment first). The kernel and its launcher below are given. The function is
// __host__ __device__ and not inline, so the CPU tests (tests/ch04/bias_activation_test.cpp) call
// your code for every thread of a grid: the exercise is tested without a GPU.
#include "ch04/bias_activation.hpp"
#include "ptt_emu/launch.hpp"

namespace ptt::ch04 {

PTT_HD void bias_activation_thread(float* Y, const float* b, int rows, int cols, bool relu,
                                   std::size_t thread, std::size_t threads) {
  // TODO(04.3): this thread's share of the epilogue Y = act(Y + b), act = ReLU when relu, else
  //   the identity. Y is [rows, cols], row-major; b has one entry per column.
  //   What it must do: thread number `thread` of a grid of `threads` threads handles the elements
  //   of Y at memory positions thread, thread + threads, thread + 2 * threads, ... (while they are
  //   inside Y, which may have any shape, an empty batch included), and no other element. So lane
  //   j + 1 of a warp works on the float right after lane j's: the warp's loads and stores are
  //   coalesced. For each of its elements: add the bias of the element's COLUMN, then apply the
  //   activation to that sum; read the element once and write it once (one pass instead of a bias
  //   kernel and a ReLU kernel, each reading and writing all of Y). Stuck? exercises/ch04/HINTS.md.
  static_cast<void>(Y), static_cast<void>(b), static_cast<void>(rows), static_cast<void>(cols);
  static_cast<void>(relu), static_cast<void>(thread), static_cast<void>(threads);
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
