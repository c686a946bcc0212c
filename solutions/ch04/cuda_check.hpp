// cuda_check.hpp — chapter 04's error checks: every CUDA runtime and cuBLAS call goes through one
// of these macros, so a failure says where (file:line), what (the call), why (the error string) and
// what to try (a hint). Kernel launches are followed by PTT_CUDA_CHECK_LAUNCH().
//
// Failures are exceptions, so ptt::run_main() maps them to exit codes like every other chapter:
// no usable GPU is the user's situation, not a bug (InputError, exit 2, "no CUDA device"); any
// other CUDA error is an internal failure (exit 1).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "ptt/error.hpp"

namespace ptt::ch04 {

/// @brief A hint for the errors a learner meets most often.
inline const char* hint_for(cudaError_t e) {
  switch (e) {
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
      return "is there an NVIDIA GPU and driver on this machine? (nvidia-smi)";
    case cudaErrorMemoryAllocation:
      return "out of GPU memory: try a smaller --batch-size or --hidden";
    case cudaErrorInvalidConfiguration:
      return "a launch asked for more threads or shared memory per block than the GPU allows";
    case cudaErrorIllegalAddress:
      return "a kernel read or wrote out of bounds: run under compute-sanitizer --tool memcheck";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
      return "built for another GPU: reconfigure with -DCMAKE_CUDA_ARCHITECTURES=<your sm>";
    default:
      return "see the CUDA runtime documentation for this error";
  }
}

/// @brief Throws for a failed CUDA call (InputError when there is no usable device).
[[noreturn]] inline void fail(cudaError_t e, const char* call, const char* file, int line) {
  const std::string where = std::string(file) + ":" + std::to_string(line) + ": ";
  if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver)
    throw InputError("no CUDA device: " + std::string(cudaGetErrorString(e)) + " (" + hint_for(e) + ")");
  throw std::runtime_error(where + call + " failed: " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e) +
                           " (hint: " + hint_for(e) + ")");
}

/// @brief Throws for a failed cuBLAS call.
[[noreturn]] inline void fail(cublasStatus_t s, const char* call, const char* file, int line) {
  const char* hint = s == CUBLAS_STATUS_NOT_INITIALIZED ? "cublasCreate failed: is a GPU visible?"
                     : s == CUBLAS_STATUS_INVALID_VALUE
                         ? "a size or leading dimension is wrong (row-major vs column-major?)"
                     : s == CUBLAS_STATUS_ALLOC_FAILED ? "out of GPU memory"
                                                       : "see the cuBLAS documentation for this status";
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call +
                           " failed: " + cublasGetStatusName(s) + ": " + cublasGetStatusString(s) +
                           " (hint: " + hint + ")");
}

/// @brief Checks that a CUDA device is usable; throws InputError "no CUDA device ..." otherwise.
/// Call it after parsing the flags, before any other CUDA call.
inline void require_device() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver || (e == cudaSuccess && count == 0))
    throw InputError(std::string("no CUDA device: ") +
                     (e == cudaSuccess ? "the driver reports 0 devices" : cudaGetErrorString(e)) +
                     " (this chapter needs an NVIDIA GPU; nvidia-smi should list one)");
  if (e != cudaSuccess) fail(e, "cudaGetDeviceCount(&count)", __FILE__, __LINE__);
}

/// @brief True when a CUDA device is usable (for tests that skip without one).
inline bool device_available() {
  int count = 0;
  const bool ok = cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
  (void)cudaGetLastError();  // a failed probe must not linger as the "last error"
  return ok;
}

}  // namespace ptt::ch04

/// Checks a CUDA runtime call: throws with the file and line, the call, the error and a hint.
#define PTT_CUDA_CHECK(call)                                                                   \
  do {                                                                                         \
    const cudaError_t ptt_cuda_e_ = (call);                                                    \
    if (ptt_cuda_e_ != cudaSuccess) ::ptt::ch04::fail(ptt_cuda_e_, #call, __FILE__, __LINE__); \
  } while (0)

/// Checks a cuBLAS call.
#define PTT_CUBLAS_CHECK(call)                                                                               \
  do {                                                                                                       \
    const cublasStatus_t ptt_cublas_s_ = (call);                                                             \
    if (ptt_cublas_s_ != CUBLAS_STATUS_SUCCESS) ::ptt::ch04::fail(ptt_cublas_s_, #call, __FILE__, __LINE__); \
  } while (0)

/// After every kernel launch: a bad configuration is reported here, at the launch that caused it.
#define PTT_CUDA_CHECK_LAUNCH() PTT_CUDA_CHECK(cudaGetLastError())
