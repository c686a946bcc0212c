// ptt_emu/emulator.hpp — a CUDA emulator that runs chapter 04's kernels as host C++.
//
// A launch runs its blocks one after the other; the threads of a block are fibers (ucontext) on the
// calling OS thread, switched only at __syncthreads and at warp collectives (shuffles, votes,
// __syncwarp), so a run is deterministic for a given schedule. The schedule (the order in which
// blocks run and in which the threads of a block run between two barriers) is an option: forward,
// reverse or seeded random. A correct kernel gives bit-identical results in every order; a race
// (a missing barrier) shows as a difference. Misuse is reported as a KernelError naming the kernel
// and the source line: a __syncthreads that not every live thread of the block reaches (some
// exited or wait at another barrier), a warp collective in a divergent branch, launch limits
// (<= 1024 threads per block, <= 48 KB of shared memory, positive grid dimensions).
//
// The CUDA built-ins the kernels use (threadIdx, dim3, float4, __syncthreads, __shfl_xor_sync,
// atomicAdd, ...) are in the stand-in <cuda_runtime.h> (emulator/standin/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

/// A stream of the emulator: runs its work at once, in order, or records it while captured.
struct CUstream_st;

namespace ptt::emu {

/// CUDA's vector of three extents (grid and block dimensions); unset extents are 1.
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
/// CUDA's index of a thread or block.
struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};

/// The order in which the blocks of a launch, and the threads of a block between two barriers, run.
enum class Order { Forward, Reverse, Random };

/// @brief The name of an order ("forward", "reverse", "random").
const char* order_name(Order order);

/// Emulator options (per OS thread).
struct Options {
  Order order = Order::Forward;
  std::uint64_t seed = 0;  ///< for Order::Random: the same seed gives the same schedule
};

/// @brief The options of launches from this OS thread.
Options options();
/// @brief Sets the options of launches from this OS thread.
void set_options(const Options& options);

/// Sets the options for a scope, restores the previous ones at its end.
class ScopedOptions {
 public:
  explicit ScopedOptions(const Options& o) : saved_(options()) { set_options(o); }
  ~ScopedOptions() { set_options(saved_); }
  ScopedOptions(const ScopedOptions&) = delete;
  ScopedOptions& operator=(const ScopedOptions&) = delete;

 private:
  Options saved_;
};

/// A kernel launch that the emulator refuses or a kernel that misuses a barrier, a warp
/// collective or shared memory. what() names the kernel and the source line.
class KernelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The number of kernel launches run on this OS thread (tests check that something ran).
std::uint64_t launch_count();

/// Where a __shared__ variable is declared (one static object per declaration).
struct SharedSite {
  const char* name;
  const char* file;
  int line;
};

/// @brief The current block's storage for the __shared__ variable declared at @p site: allocated
/// (filled with NaN) by the first thread of the block that reaches the declaration.
void* shared_memory(const SharedSite& site, std::size_t bytes, std::size_t align);

/// @brief Runs @p work now, or records it when @p stream is being captured (then it runs at each
/// launch of the graph). Launches, and cuBLAS calls, go through here.
void enqueue(CUstream_st* stream, std::function<void()> work);

/// @brief The number of cudaGraphLaunch calls on this OS thread.
std::uint64_t graph_launch_count();
/// @brief Calls @p observer at every cudaGraphLaunch (nullptr: none), e.g. to count them in tests.
void set_graph_launch_observer(void (*observer)());

/// @brief Runs @p thread_body as every thread of every block of a grid; throws KernelError.
void run_kernel(const char* kernel, dim3 grid, dim3 block, std::size_t dynamic_shared,
                const std::function<void()>& thread_body, const char* file, int line);

/// The object PTT_LAUNCH(...) returns: calling it with the kernel's arguments enqueues the launch
/// on its stream (runs it now, or records it while the stream is captured).
template <class... Params>
class Launch {
 public:
  Launch(void (*kernel)(Params...), const char* name, dim3 grid, dim3 block, std::size_t shmem,
         CUstream_st* stream, const char* file, int line)
      : kernel_(kernel),
        name_(name),
        grid_(grid),
        block_(block),
        shmem_(shmem),
        stream_(stream),
        file_(file),
        line_(line) {}

  template <class... Args>
  void operator()(Args&&... args) const {
    // The arguments are copied at the launch, as CUDA does (a recorded launch keeps its copy); each
    // thread's call copies them again, as each CUDA thread has its own.
    enqueue(stream_,
            [kernel = kernel_, name = name_, grid = grid_, block = block_, shmem = shmem_, file = file_,
             line = line_, params = std::tuple<Params...>(std::forward<Args>(args)...)] {
              run_kernel(
                  name, grid, block, shmem, [&] { std::apply(kernel, params); }, file, line);
            });
  }

 private:
  void (*kernel_)(Params...);
  const char* name_;
  dim3 grid_, block_;
  std::size_t shmem_;
  CUstream_st* stream_;
  const char* file_;
  int line_;
};

/// @brief The emulated form of kernel<<<grid, block, shmem, stream>>> (see ptt_emu/launch.hpp).
template <class... Params>
Launch<Params...> launch(void (*kernel)(Params...), const char* name, dim3 grid, dim3 block,
                         std::size_t shmem, CUstream_st* stream, const char* file, int line) {
  return Launch<Params...>(kernel, name, grid, block, shmem, stream, file, line);
}

// --- What the stand-in built-ins call (emulator/standin/cuda_runtime.h). ---

/// A call site: __syncthreads and the warp collectives take theirs through default arguments
/// (__builtin_FILE/__builtin_LINE, which GCC and Clang both have), so barriers are told apart.
struct Site {
  const char* file;
  unsigned line;
};

/// The kinds of warp collectives.
enum class Collective { ShflIdx, ShflUp, ShflDown, ShflXor, Ballot, Any, All, SyncWarp };

/// @brief __syncthreads(): waits until every thread of the block is at this barrier (@p where).
void syncthreads(Site where);
/// @brief A warp collective: waits for the lanes named in @p mask at the same call, then returns
/// this lane's result. @p value holds the bits of this lane's operand.
std::uint64_t warp_collective(Collective kind, unsigned mask, std::uint64_t value, int arg, int width,
                              Site where);

}  // namespace ptt::emu

// The built-in index variables of the running thread: the scheduler sets them before it resumes a
// thread (per OS thread, as the fibers of a launch all run on the launching one).
extern thread_local ptt::emu::uint3 threadIdx;
extern thread_local ptt::emu::uint3 blockIdx;
extern thread_local ptt::emu::dim3 blockDim;
extern thread_local ptt::emu::dim3 gridDim;
