// train_kernels.cu — everything of a training step on the GPU except the matrix products and the
// forward epilogue (bias + ReLU: solutions/ch04/bias_activation.cu, exercise 04.3).
//
// Each kernel is the GPU twin of a piece of chapter 01 (solutions/ch01/layers.cpp,
// common/src/optim.cpp) and is tested against it (tests/ch04/gpu). Element-wise work uses one
// thread per element (grid-stride loops); row-wise work (softmax) one warp per row; column sums one
// thread per column with a fixed-order tree over the block. The optimizer updates are written with
// __fmul_rn/__fadd_rn so that nvcc cannot contract them into FMAs: the same rounded operations, in
// the same order, as the C++ reference.
#include <cfloat>

#include "ch04/cuda_check.hpp"
#include "ch04/train_kernels.hpp"
#include "ptt_emu/launch.hpp"

namespace ptt::ch04 {
namespace {

constexpr int kThreads = 256;

unsigned grid_for(std::size_t n) {
  const std::size_t g = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(g < 65535 * 16 ? (g > 0 ? g : 1) : 65535 * 16);
}

__global__ void gather_kernel(const float* data_x, const std::uint8_t* data_y, int features,
                              const std::uint32_t* order, const int* step, int batch, int rows, float* x,
                              std::uint8_t* y) {
  const int r = static_cast<int>(blockIdx.x);
  if (r >= rows) return;
  const std::size_t src = order[static_cast<std::size_t>(*step) * batch + r];
  const float* from = data_x + src * features;
  float* to = x + static_cast<std::size_t>(r) * features;
  for (int f = static_cast<int>(threadIdx.x); f < features; f += blockDim.x) to[f] = from[f];
  if (threadIdx.x == 0) y[r] = data_y[src];
}

__global__ void relu_backward_kernel(const float* A, float* dA, std::size_t n) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    if (!(A[i] > 0.0f)) dA[i] = 0.0f;
}

// One warp per row: max, sum of exponentials and argmax by shuffles; C may be any size.
__global__ void softmax_xent_kernel(const float* logits, const std::uint8_t* labels, int rows, int classes,
                                    float* dlogits, double* loss_sum, unsigned* correct) {
  const int warps = static_cast<int>(blockDim.x) / 32;
  const int row = static_cast<int>(blockIdx.x) * warps + static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  if (row >= rows) return;  // whole warps leave together
  const float* z = logits + static_cast<std::size_t>(row) * classes;
  float* dz = dlogits + static_cast<std::size_t>(row) * classes;
  // max and argmax (ties to the lowest index, as ptt::count_correct)
  float zmax = -FLT_MAX;
  int arg = classes;
  for (int c = lane; c < classes; c += 32)
    if (z[c] > zmax) zmax = z[c], arg = c;
  for (int off = 16; off > 0; off /= 2) {
    const float other = __shfl_xor_sync(0xffffffffu, zmax, off);
    const int other_arg = __shfl_xor_sync(0xffffffffu, arg, off);
    if (other > zmax || (other == zmax && other_arg < arg)) zmax = other, arg = other_arg;
  }
  float sum = 0.0f;
  for (int c = lane; c < classes; c += 32) sum += expf(z[c] - zmax);
  for (int off = 16; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  const int y = labels[row];
  const float b = static_cast<float>(rows);
  for (int c = lane; c < classes; c += 32) {
    const float p = expf(z[c] - zmax) / sum;
    dz[c] = (p - (c == y ? 1.0f : 0.0f)) / b;  // the mean over the batch
  }
  if (lane == 0) {
    atomicAdd(loss_sum, static_cast<double>(logf(sum) - (z[y] - zmax)));
    if (arg == y) atomicAdd(correct, 1u);
  }
}

// blockDim (32, 8): 32 columns per block, 8 partial sums per column, combined in a fixed tree.
__global__ void bias_gradient_kernel(const float* dY, int rows, int cols, float* db) {
  PTT_SHARED(float, part, [8][33]);
  const int col = static_cast<int>(blockIdx.x) * 32 + static_cast<int>(threadIdx.x);
  float s = 0.0f;
  if (col < cols)
    for (int r = static_cast<int>(threadIdx.y); r < rows; r += 8)
      s += dY[static_cast<std::size_t>(r) * cols + col];
  part[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  for (int half = 4; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.y) < half)
      part[threadIdx.y][threadIdx.x] += part[threadIdx.y + half][threadIdx.x];
    __syncthreads();
  }
  if (threadIdx.y == 0 && col < cols) db[col] = part[0][threadIdx.x];
}

__global__ void sgd_kernel(float* p, const float* g, float* v, std::size_t n, float mu,
                           const StepHyper* hyper, const int* step) {
  const float lr = hyper[*step].lr;
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float vi = __fadd_rn(__fmul_rn(mu, v[i]), g[i]);  // v = mu v + g
    v[i] = vi;
    p[i] = __fsub_rn(p[i], __fmul_rn(lr, vi));  // p = p - lr v
  }
}

__global__ void adam_kernel(float* p, const float* g, float* m, float* v, std::size_t n, float b1, float b2,
                            float eps, const StepHyper* hyper, const int* step) {
  const StepHyper h = hyper[*step];
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float gi = g[i];
    const float mi = __fadd_rn(__fmul_rn(b1, m[i]), __fmul_rn(1.0f - b1, gi));  // m = b1 m + (1-b1) g
    const float vi =
        __fadd_rn(__fmul_rn(b2, v[i]), __fmul_rn(__fmul_rn(1.0f - b2, gi), gi));  // v = b2 v + (1-b2) g g
    m[i] = mi;
    v[i] = vi;
    // p = p - lr (m / c1) / (sqrt(v / c2) + eps)
    const float den = __fadd_rn(__fsqrt_rn(__fdiv_rn(vi, h.c2)), eps);
    p[i] = __fsub_rn(p[i], __fdiv_rn(__fmul_rn(h.lr, __fdiv_rn(mi, h.c1)), den));
  }
}

__global__ void advance_step_kernel(int* step) { ++*step; }

}  // namespace

void gather_batch(const float* data_x, const std::uint8_t* data_y, int features, const std::uint32_t* order,
                  const int* step, int batch, int rows, float* x, std::uint8_t* y, cudaStream_t stream) {
  if (rows <= 0) return;
  PTT_LAUNCH(gather_kernel, static_cast<unsigned>(rows), kThreads, 0, stream)
  (data_x, data_y, features, order, step, batch, rows, x, y);
  PTT_CUDA_CHECK_LAUNCH();
}

void relu_backward(const float* A, float* dA, std::size_t n, cudaStream_t stream) {
  PTT_LAUNCH(relu_backward_kernel, grid_for(n), kThreads, 0, stream)(A, dA, n);
  PTT_CUDA_CHECK_LAUNCH();
}

void softmax_cross_entropy(const float* logits, const std::uint8_t* labels, int rows, int classes,
                           float* dlogits, double* loss_sum, unsigned* correct, cudaStream_t stream) {
  if (rows <= 0) return;
  constexpr int kRowsPerBlock = kThreads / 32;
  PTT_LAUNCH(softmax_xent_kernel, static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock), kThreads,
             0, stream)
  (logits, labels, rows, classes, dlogits, loss_sum, correct);
  PTT_CUDA_CHECK_LAUNCH();
}

void bias_gradient(const float* dY, int rows, int cols, float* db, cudaStream_t stream) {
  PTT_LAUNCH(bias_gradient_kernel, static_cast<unsigned>((cols + 31) / 32), dim3(32, 8), 0, stream)
  (dY, rows, cols, db);
  PTT_CUDA_CHECK_LAUNCH();
}

void sgd_update(float* params, const float* grads, float* velocity, std::size_t n, float momentum,
                const StepHyper* hyper, const int* step, cudaStream_t stream) {
  PTT_LAUNCH(sgd_kernel, grid_for(n), kThreads, 0, stream)(params, grads, velocity, n, momentum, hyper, step);
  PTT_CUDA_CHECK_LAUNCH();
}

void adam_update(float* params, const float* grads, float* moments, std::size_t n, float beta1, float beta2,
                 float eps, const StepHyper* hyper, const int* step, cudaStream_t stream) {
  PTT_LAUNCH(adam_kernel, grid_for(n), kThreads, 0, stream)
  (params, grads, moments, moments + n, n, beta1, beta2, eps, hyper, step);
  PTT_CUDA_CHECK_LAUNCH();
}

void advance_step(int* step, cudaStream_t stream) {
  PTT_LAUNCH(advance_step_kernel, 1, 1, 0, stream)(step);
  PTT_CUDA_CHECK_LAUNCH();
}

}  // namespace ptt::ch04
