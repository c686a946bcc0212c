// runtime.cpp — the CUDA runtime API of the emulator: host memory as device memory, streams that
// run their work at once in order, stream capture into graphs, graph replay. Capture rules are
// those of cudaStreamCaptureModeThreadLocal: while this OS thread captures, a synchronous call
// (allocation, free, cudaMemcpy, cudaMemset, a synchronize) fails with
// cudaErrorStreamCaptureUnsupported and invalidates the capture, whose end then fails with
// cudaErrorStreamCaptureInvalidated — as on a GPU, where such a call would not be part of the graph.
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "cuda_runtime.h"
#include "ptt_emu/emulator.hpp"

struct CUstream_st {
  bool capturing = false;
  bool invalidated = false;
  std::vector<std::function<void()>> recording;
};
struct CUgraph_st {
  std::vector<std::function<void()>> work;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> work;
};

namespace ptt::emu {
namespace {

thread_local CUstream_st* g_capturing = nullptr;  // the stream this OS thread captures, if any
thread_local cudaError_t g_last_error = cudaSuccess;
thread_local std::uint64_t g_graph_launches = 0;
void (*g_graph_launch_observer)() = nullptr;
std::set<void*>& allocations() {
  static std::set<void*> live;
  return live;
}

cudaError_t record(cudaError_t e) {
  if (e != cudaSuccess) g_last_error = e;
  return e;
}

/// A synchronous call while capturing: refused, and the capture is invalidated.
bool refused_in_capture() {
  if (g_capturing == nullptr) return false;
  g_capturing->invalidated = true;
  return true;
}

}  // namespace

void enqueue(CUstream_st* stream, std::function<void()> work) {
  if (stream != nullptr && stream->capturing) {
    stream->recording.push_back(std::move(work));
    return;
  }
  if (g_capturing != nullptr) {  // the legacy stream (or another) used during a capture
    g_capturing->invalidated = true;
    throw KernelError(
        "work enqueued on a stream that is not being captured while a capture is active "
        "(cudaErrorStreamCaptureImplicit)");
  }
  work();
}

std::uint64_t graph_launch_count() { return g_graph_launches; }
void set_graph_launch_observer(void (*observer)()) { g_graph_launch_observer = observer; }

}  // namespace ptt::emu

using ptt::emu::record;
using ptt::emu::refused_in_capture;

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidResourceHandle:
      return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalState:
      return "cudaErrorIllegalState";
    case cudaErrorStreamCaptureUnsupported:
      return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated:
      return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureUnmatched:
      return "cudaErrorStreamCaptureUnmatched";
    case cudaErrorStreamCaptureImplicit:
      return "cudaErrorStreamCaptureImplicit";
    default:
      return "cudaError (CUDA emulator)";
  }
}
const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorStreamCaptureUnsupported:
      return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated:
      return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnmatched:
      return "the capture was not initiated in this stream";
    default:
      return cudaGetErrorName(e);
  }
}
cudaError_t cudaGetLastError() { return std::exchange(ptt::emu::g_last_error, cudaSuccess); }
cudaError_t cudaPeekAtLastError() { return ptt::emu::g_last_error; }
cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, std::size_t bytes) {
  if (refused_in_capture()) return record(cudaErrorStreamCaptureUnsupported);
  *ptr = std::malloc(bytes > 0 ? bytes : 1);
  if (*ptr == nullptr) return record(cudaErrorMemoryAllocation);
  std::memset(*ptr, 0xff, bytes);  // NaN: memory nobody writes is noticed
  ptt::emu::allocations().insert(*ptr);
  return cudaSuccess;
}
cudaError_t cudaFree(void* ptr) {
  if (refused_in_capture()) return record(cudaErrorStreamCaptureUnsupported);
  if (ptr == nullptr) return cudaSuccess;
  if (ptt::emu::allocations().erase(ptr) == 0) return record(cudaErrorInvalidValue);
  std::free(ptr);
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind) {
  if (refused_in_capture()) return record(cudaErrorStreamCaptureUnsupported);
  if (bytes > 0 && (dst == nullptr || src == nullptr)) return record(cudaErrorInvalidValue);
  if (bytes > 0) std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemset(void* dst, int value, std::size_t bytes) {
  if (refused_in_capture()) return record(cudaErrorStreamCaptureUnsupported);
  if (bytes > 0 && dst == nullptr) return record(cudaErrorInvalidValue);
  if (bytes > 0) std::memset(dst, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
  if (refused_in_capture()) return record(cudaErrorStreamCaptureUnsupported);
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  *stream = new CUstream_st;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (stream == nullptr) return record(cudaErrorInvalidResourceHandle);
  if (stream->capturing) return record(cudaErrorIllegalState);
  delete stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) {
  if (refused_in_capture()) return record(cudaErrorStreamCaptureUnsupported);
  return cudaSuccess;
}
cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
  // The legacy stream cannot be captured; one capture per OS thread here.
  if (stream == nullptr || stream->capturing || ptt::emu::g_capturing != nullptr)
    return record(cudaErrorIllegalState);
  stream->capturing = true;
  stream->invalidated = false;
  stream->recording.clear();
  ptt::emu::g_capturing = stream;
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  if (stream == nullptr || !stream->capturing) return record(cudaErrorIllegalState);
  stream->capturing = false;
  ptt::emu::g_capturing = nullptr;
  auto work = std::move(stream->recording);
  stream->recording.clear();
  if (stream->invalidated) {
    *graph = nullptr;
    return record(cudaErrorStreamCaptureInvalidated);
  }
  *graph = new CUgraph_st{std::move(work)};
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (graph == nullptr) return record(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->work};
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (exec == nullptr) return record(cudaErrorInvalidValue);
  ++ptt::emu::g_graph_launches;
  if (ptt::emu::g_graph_launch_observer != nullptr) ptt::emu::g_graph_launch_observer();
  ptt::emu::enqueue(stream, [exec] {
    for (auto& work : exec->work) work();
  });
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
