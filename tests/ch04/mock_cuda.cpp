// A host stand-in for the CUDA runtime, cuBLAS and chapter 04's kernel launchers, so that the
// trainer's orchestration (solutions/ch04/device_trainer.cpp: buffers, the order and arguments of
// the step's kernels, the step counter, graph capture and replay) runs and is tested on the CPU.
//
// "Device" memory is host memory (filled with 0xff bytes — NaN — when allocated). Each launcher
// does its kernel's job with a plain loop. Between cudaStreamBeginCapture and EndCapture the
// launchers are RECORDED instead of run, and cudaGraphLaunch replays the recording: exactly the
// semantics that make a captured step wrong if it depended on a host value that changes.
// The kernels themselves are tested on the GPU (tests/ch04/gpu); this file tests only the host side.
#include "mock_cuda.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "ch04/gemm.hpp"
#include "ch04/train_kernels.hpp"

namespace {
bool capturing = false;
std::vector<std::function<void()>> recording, graph_ops;
void run(std::function<void()> op) {
  if (capturing)
    recording.push_back(std::move(op));
  else
    op();
}
}  // namespace

namespace ptt::mock {
int graph_launches = 0;
}

extern "C" {
cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  *ptr = std::malloc(bytes);
  std::memset(*ptr, 0xff, bytes);  // NaN: memory nobody writes is noticed
  return cudaSuccess;
}
cudaError_t cudaFree(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  std::memcpy(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  std::memset(dst, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  *stream = nullptr;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamBeginCapture(cudaStream_t, cudaStreamCaptureMode) {
  capturing = true;
  recording.clear();
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t, cudaGraph_t* graph) {
  capturing = false;
  graph_ops = recording;
  *graph = reinterpret_cast<cudaGraph_t>(&graph_ops);
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t, unsigned long long) {
  *exec = reinterpret_cast<cudaGraphExec_t>(&graph_ops);
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t, cudaStream_t) {
  ++ptt::mock::graph_launches;
  for (auto& op : graph_ops) op();
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t) { return cudaSuccess; }
cudaError_t cudaGraphDestroy(cudaGraph_t) { return cudaSuccess; }
cudaError_t cudaGetLastError() { return cudaSuccess; }
cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
const char* cudaGetErrorName(cudaError_t) { return "mock"; }
const char* cudaGetErrorString(cudaError_t) { return "mock"; }
cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  *handle = nullptr;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy_v2(cublasHandle_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetStream_v2(cublasHandle_t, cudaStream_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t, void*, size_t) { return CUBLAS_STATUS_SUCCESS; }
const char* cublasGetStatusName(cublasStatus_t) { return "mock"; }
const char* cublasGetStatusString(cublasStatus_t) { return "mock"; }
}

namespace ptt::ch04 {

void gemm(GemmKernel, const GemmProblem& p, cudaStream_t, cublasHandle_t) {
  run([p] {
    for (int i = 0; i < p.M; ++i)
      for (int j = 0; j < p.N; ++j) {
        float acc = 0.0f;
        for (int k = 0; k < p.K; ++k) acc += p.A.at(i, k) * p.B.at(k, j);
        p.C[static_cast<std::size_t>(i) * p.ldc + j] = acc;
      }
  });
}

void gather_batch(const float* data_x, const std::uint8_t* data_y, int features, const std::uint32_t* order,
                  const int* step, int batch, int rows, float* x, std::uint8_t* y, cudaStream_t) {
  run([=] {
    for (int r = 0; r < rows; ++r) {
      const std::size_t src = order[static_cast<std::size_t>(*step) * batch + r];
      std::memcpy(x + static_cast<std::size_t>(r) * features, data_x + src * features,
                  features * sizeof(float));
      y[r] = data_y[src];
    }
  });
}

void bias_activation(float* Y, const float* b, int rows, int cols, bool relu, cudaStream_t) {
  run([=] {
    for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * cols; ++i) {
      const float v = Y[i] + b[i % cols];
      Y[i] = relu ? (v > 0.0f ? v : 0.0f) : v;
    }
  });
}

void relu_backward(const float* A, float* dA, std::size_t n, cudaStream_t) {
  run([=] {
    for (std::size_t i = 0; i < n; ++i)
      if (!(A[i] > 0.0f)) dA[i] = 0.0f;
  });
}

void softmax_cross_entropy(const float* logits, const std::uint8_t* labels, int rows, int classes,
                           float* dlogits, double* loss_sum, unsigned* correct, cudaStream_t) {
  run([=] {
    for (int r = 0; r < rows; ++r) {
      const float* z = logits + static_cast<std::size_t>(r) * classes;
      float zmax = z[0];
      int arg = 0;
      for (int c = 1; c < classes; ++c)
        if (z[c] > zmax) zmax = z[c], arg = c;
      float sum = 0.0f;
      for (int c = 0; c < classes; ++c) sum += std::exp(z[c] - zmax);
      for (int c = 0; c < classes; ++c)
        dlogits[static_cast<std::size_t>(r) * classes + c] =
            (std::exp(z[c] - zmax) / sum - (c == labels[r] ? 1.0f : 0.0f)) / static_cast<float>(rows);
      *loss_sum += std::log(sum) - (z[labels[r]] - zmax);
      *correct += arg == labels[r] ? 1u : 0u;
    }
  });
}

void bias_gradient(const float* dY, int rows, int cols, float* db, cudaStream_t) {
  run([=] {
    for (int c = 0; c < cols; ++c) {
      float s = 0.0f;
      for (int r = 0; r < rows; ++r) s += dY[static_cast<std::size_t>(r) * cols + c];
      db[c] = s;
    }
  });
}

void sgd_update(float* params, const float* grads, float* velocity, std::size_t n, float momentum,
                const StepHyper* hyper, const int* step, cudaStream_t) {
  run([=] {
    const float lr = hyper[*step].lr;
    for (std::size_t i = 0; i < n; ++i) {
      velocity[i] = momentum * velocity[i] + grads[i];
      params[i] -= lr * velocity[i];
    }
  });
}

void adam_update(float* params, const float* grads, float* moments, std::size_t n, float beta1, float beta2,
                 float eps, const StepHyper* hyper, const int* step, cudaStream_t) {
  run([=] {
    const StepHyper h = hyper[*step];
    float* m = moments;
    float* v = moments + n;
    for (std::size_t i = 0; i < n; ++i) {
      m[i] = beta1 * m[i] + (1.0f - beta1) * grads[i];
      v[i] = beta2 * v[i] + (1.0f - beta2) * grads[i] * grads[i];
      params[i] -= h.lr * (m[i] / h.c1) / (std::sqrt(v[i] / h.c2) + eps);
    }
  });
}

void advance_step(int* step, cudaStream_t) {
  run([=] { ++*step; });
}

}  // namespace ptt::ch04
