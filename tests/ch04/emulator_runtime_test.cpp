// The emulator's runtime API and cuBLAS (emulator/src/runtime.cpp, cublas.cpp): stream capture
// records instead of running and refuses what a capture cannot contain (allocation, synchronous
// copies, synchronization), graphs replay with the arguments frozen at capture, and SGEMM is
// column-major with cuBLAS's argument checks.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

#include "ptt_emu/launch.hpp"

namespace {

__global__ void add_to_all(float* data, int n, float value) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) data[i] += value;
}

/// A stream, and a capture begun on it.
struct Capture {
  cudaStream_t stream = nullptr;
  Capture() {
    EXPECT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
    EXPECT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  }
  /// Ends the capture: the status of cudaStreamEndCapture; the graph is destroyed.
  cudaError_t end() {
    cudaGraph_t graph = nullptr;
    const cudaError_t e = cudaStreamEndCapture(stream, &graph);
    if (graph != nullptr) cudaGraphDestroy(graph);
    return e;
  }
  ~Capture() { cudaStreamDestroy(stream); }
};

TEST(EmulatedCapture, AllocationInsideCaptureIsAnError) {
  Capture c;
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, 64), cudaErrorStreamCaptureUnsupported);
  EXPECT_EQ(c.end(), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(cudaMalloc(&p, 64), cudaSuccess);  // after the capture: fine
  EXPECT_EQ(cudaFree(p), cudaSuccess);
}

TEST(EmulatedCapture, DeviceToHostCopyInsideCaptureIsAnError) {
  float* d = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d), sizeof(float)), cudaSuccess);
  float h = 0.0f;
  {
    Capture c;
    EXPECT_EQ(cudaMemcpy(&h, d, sizeof h, cudaMemcpyDeviceToHost), cudaErrorStreamCaptureUnsupported);
    EXPECT_EQ(c.end(), cudaErrorStreamCaptureInvalidated);
  }
  EXPECT_EQ(cudaFree(d), cudaSuccess);
}

TEST(EmulatedCapture, SynchronizeInsideCaptureIsAnError) {
  {
    Capture c;
    EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorStreamCaptureUnsupported);
    EXPECT_EQ(c.end(), cudaErrorStreamCaptureInvalidated);
  }
  Capture c;
  EXPECT_EQ(cudaStreamSynchronize(c.stream), cudaErrorStreamCaptureUnsupported);
  EXPECT_EQ(c.end(), cudaErrorStreamCaptureInvalidated);
}

TEST(EmulatedCapture, LaunchOnAnotherStreamInsideCaptureIsAnError) {
  std::vector<float> data(8, 0.0f);
  Capture c;
  EXPECT_THROW(PTT_LAUNCH(add_to_all, 1, 8, 0, nullptr)(data.data(), 8, 1.0f), ptt::emu::KernelError);
  EXPECT_EQ(c.end(), cudaErrorStreamCaptureInvalidated);
}

TEST(EmulatedCapture, CapturedWorkRunsAtEachGraphLaunchWithFrozenArguments) {
  std::vector<float> data(100, 0.0f);
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  float value = 1.5f;
  PTT_LAUNCH(add_to_all, 4, 32, 0, stream)(data.data(), 100, value);
  value = 100.0f;  // too late: the launch's arguments were copied at the launch
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
  EXPECT_EQ(data[0], 0.0f) << "a captured launch must not run at capture";
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  const auto launches = ptt::emu::graph_launch_count();
  ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
  EXPECT_EQ(ptt::emu::graph_launch_count(), launches + 2);
  for (const float x : data) ASSERT_EQ(x, 3.0f);
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST(EmulatedCublas, SgemmIsColumnMajor) {
  cublasHandle_t h = nullptr;
  ASSERT_EQ(cublasCreate(&h), CUBLAS_STATUS_SUCCESS);
  // Column-major A [2 x 3] = [[1, 2, 3], [4, 5, 6]] (stored by columns), B [3 x 2] = [[1, 0], [0, 1], [1,
  // 1]].
  const std::vector<float> A = {1, 4, 2, 5, 3, 6}, B = {1, 0, 1, 0, 1, 1};
  std::vector<float> C(4, -1.0f);
  const float one = 1.0f, zero = 0.0f;
  ASSERT_EQ(
      cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, A.data(), 2, B.data(), 3, &zero, C.data(), 2),
      CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(C, (std::vector<float>{4, 10, 5, 11}));  // [[1+3, 2+3], [4+6, 5+6]] by columns
  // op(A) = A^T with A stored [3 x 2]: the same product.
  const std::vector<float> At = {1, 2, 3, 4, 5, 6};
  ASSERT_EQ(
      cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 3, &one, At.data(), 3, B.data(), 3, &zero, C.data(), 2),
      CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(C, (std::vector<float>{4, 10, 5, 11}));
  EXPECT_EQ(cublasDestroy(h), CUBLAS_STATUS_SUCCESS);
}

TEST(EmulatedCublas, SgemmChecksItsArguments) {
  cublasHandle_t h = nullptr;
  ASSERT_EQ(cublasCreate(&h), CUBLAS_STATUS_SUCCESS);
  std::vector<float> A(64), B(64), C(64);
  const float one = 1.0f, zero = 0.0f;
  auto sgemm = [&](cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, int lda, int ldb,
                   int ldc) {
    return cublasSgemm(h, ta, tb, m, n, k, &one, A.data(), lda, B.data(), ldb, &zero, C.data(), ldc);
  };
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, 4, 4, 4), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, -1, 4, 4, 4, 4, 4), CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, 3, 4, 4), CUBLAS_STATUS_INVALID_VALUE);  // lda < m
  EXPECT_EQ(sgemm(CUBLAS_OP_T, CUBLAS_OP_N, 4, 4, 5, 4, 5, 4),
            CUBLAS_STATUS_INVALID_VALUE);  // lda < k for A^T
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 5, 4, 4, 4), CUBLAS_STATUS_INVALID_VALUE);  // ldb < k
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_T, 4, 5, 4, 4, 4, 4),
            CUBLAS_STATUS_INVALID_VALUE);  // ldb < n for B^T
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, 4, 4, 3), CUBLAS_STATUS_INVALID_VALUE);  // ldc < m
  EXPECT_EQ(cublasDestroy(h), CUBLAS_STATUS_SUCCESS);
}

}  // namespace
