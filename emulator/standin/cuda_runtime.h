// cuda_runtime.h — STAND-IN for the CUDA emulator (emulator/): what chapter 04's kernels use of
// CUDA, as host C++, so that their .cu files compile without the toolkit. Only emulator targets
// have this directory on their include path; the nvcc build uses the real header.
//
// Provided: the qualifiers (__global__, __device__, __host__, __forceinline__, __launch_bounds__,
// __align__; __restrict__ is a GCC/Clang keyword), dim3/uint3, threadIdx/blockIdx/blockDim/gridDim,
// warpSize, float2/float4/make_float4, __syncthreads/__syncwarp, the warp shuffles and votes,
// atomicAdd/atomicMax, the round-to-nearest math intrinsics, and the runtime API that chapter 04's
// host code calls (memory, copies, streams, capture, graphs; emulator/src/runtime.cpp). Not
// provided: textures, cooperative groups, dynamic parallelism, events, async copies.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ptt_emu/emulator.hpp"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __align__(n) alignas(n)

using dim3 = ptt::emu::dim3;
using uint3 = ptt::emu::uint3;

/// The stream handle (struct CUstream_st is the emulator's, ptt_emu/emulator.hpp).
using cudaStream_t = CUstream_st*;

inline constexpr int warpSize = 32;

// The runtime API that chapter 04's host code uses (emulator/src/runtime.cpp): "device" memory is
// host memory, launches and cuBLAS calls run at once in stream order, or are recorded while their
// stream is being captured; a graph replays its recording. Capture rules are enforced: a
// synchronous call (cudaMalloc, cudaFree, cudaMemcpy, cudaMemset, a synchronize) while this OS
// thread captures returns an error and invalidates the capture. A refused launch throws
// ptt::emu::KernelError at the launch, so cudaGetLastError() reports only runtime-call errors.
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorNoKernelImageForDevice = 209,
  cudaErrorUnsupportedPtxVersion = 222,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorIllegalState = 401,
  cudaErrorIllegalAddress = 700,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
  cudaErrorStreamCaptureUnmatched = 903,
  cudaErrorStreamCaptureImplicit = 906,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2,
};
inline constexpr unsigned cudaStreamDefault = 0, cudaStreamNonBlocking = 1;
struct CUgraph_st;
using cudaGraph_t = CUgraph_st*;
struct CUgraphExec_st;
using cudaGraphExec_t = CUgraphExec_st*;

const char* cudaGetErrorName(cudaError_t e);
const char* cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
cudaError_t cudaGetDeviceCount(int* count);  // the emulator is one device
cudaError_t cudaMalloc(void** ptr, std::size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemset(void* dst, int value, std::size_t bytes);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags = 0);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);

struct alignas(8) float2 {
  float x, y;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline float2 make_float2(float x, float y) { return {x, y}; }

inline void __syncthreads(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
  ptt::emu::syncthreads({file, line});
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(),
                       unsigned line = __builtin_LINE()) {
  ptt::emu::warp_collective(ptt::emu::Collective::SyncWarp, mask, 0, 0, 32, {file, line});
}

namespace ptt::emu::detail {
template <class T>
std::uint64_t to_bits(T v) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "shuffles move at most 8 bytes");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}
template <class T>
T from_bits(std::uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}
template <class T>
T shuffle(Collective kind, unsigned mask, T var, int arg, int width, Site where) {
  return from_bits<T>(warp_collective(kind, mask, to_bits(var), arg, width, where));
}
}  // namespace ptt::emu::detail

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize, const char* file = __builtin_FILE(),
              unsigned line = __builtin_LINE()) {
  return ptt::emu::detail::shuffle(ptt::emu::Collective::ShflIdx, mask, var, src_lane, width, {file, line});
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                 const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
  return ptt::emu::detail::shuffle(ptt::emu::Collective::ShflUp, mask, var, static_cast<int>(delta), width,
                                   {file, line});
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                   const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
  return ptt::emu::detail::shuffle(ptt::emu::Collective::ShflDown, mask, var, static_cast<int>(delta), width,
                                   {file, line});
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                  const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
  return ptt::emu::detail::shuffle(ptt::emu::Collective::ShflXor, mask, var, lane_mask, width, {file, line});
}
inline unsigned __ballot_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(),
                              unsigned line = __builtin_LINE()) {
  return static_cast<unsigned>(
      ptt::emu::warp_collective(ptt::emu::Collective::Ballot, mask, predicate != 0, 0, 32, {file, line}));
}
inline int __any_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(),
                      unsigned line = __builtin_LINE()) {
  return static_cast<int>(
      ptt::emu::warp_collective(ptt::emu::Collective::Any, mask, predicate != 0, 0, 32, {file, line}));
}
inline int __all_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(),
                      unsigned line = __builtin_LINE()) {
  return static_cast<int>(
      ptt::emu::warp_collective(ptt::emu::Collective::All, mask, predicate != 0, 0, 32, {file, line}));
}

// Atomics: the threads of a launch never run at the same time, so an atomic is a read-modify-write
// applied in the emulator's schedule order (the order option changes the order of the additions).
template <class T>
T atomicAdd(T* address, T value) {
  const T old = *address;
  *address = old + value;
  return old;
}
template <class T>
T atomicMax(T* address, T value) {
  const T old = *address;
  *address = old < value ? value : old;
  return old;
}

// Round-to-nearest intrinsics: plain IEEE operations (the emulator's kernels are compiled with
// -ffp-contract=off, so none is fused into an FMA, as on the GPU).
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __expf(float a) { return std::exp(a); }
inline float __logf(float a) { return std::log(a); }
inline float rsqrtf(float a) { return 1.0f / std::sqrt(a); }
// expf, logf, sqrtf, fmaxf, ...: the C library's, from <cmath>.
