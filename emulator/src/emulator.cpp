// emulator.cpp — the scheduler of the CUDA emulator: blocks one after the other, the threads of a
// block as fibers (ucontext) on the calling OS thread, switched at barriers and warp collectives.
//
// A block runs in rounds: every runnable thread runs (in the schedule's order) until it exits or
// waits at a barrier or a warp collective. When none is runnable, warp collectives whose lanes are
// all there are resolved; if none is, the block barrier is released when every thread waits at the
// SAME __syncthreads, and anything else (some threads exited, or wait at another barrier or a warp
// collective) is a divergence, reported as a KernelError instead of a hang.
//
// Under AddressSanitizer (the asan preset) every switch between the scheduler's stack and a fiber's
// is announced to ASan (__sanitizer_start/finish_switch_fiber), which would otherwise take a frame
// on a fiber's stack for a stack overflow, and every __shared__ array is a heap block of its own, so
// that an access past its end lands in ASan's redzone instead of in the next array.
#include "ptt_emu/emulator.hpp"

#include <ucontext.h>

#if defined(__SANITIZE_ADDRESS__)
#define PTT_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PTT_EMU_ASAN 1
#endif
#endif
#ifdef PTT_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>

#include <cstdlib>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

thread_local ptt::emu::uint3 threadIdx;
thread_local ptt::emu::uint3 blockIdx;
thread_local ptt::emu::dim3 blockDim;
thread_local ptt::emu::dim3 gridDim;

namespace ptt::emu {
namespace {

constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr std::size_t kMaxSharedBytes = 48 * 1024;    // static + dynamic, without opt-in
constexpr std::size_t kStackBytes = 128 * 1024;       // per fiber; kernels keep small frames
constexpr std::uint32_t kSharedPoison = 0x7fc00000u;  // quiet NaN

enum class State { Runnable, AtBarrier, AtWarp, Done };

struct Fiber {
  ucontext_t ctx{};
  void* asan_fake_stack = nullptr;  // ASan's bookkeeping while the fiber is switched out
  State state = State::Runnable;
  uint3 idx;
  unsigned linear = 0;
  // where it waits, and, at a warp collective, its operands and result
  const char* file = "";
  unsigned line = 0;
  Collective kind = Collective::SyncWarp;
  unsigned mask = 0;
  std::uint64_t value = 0, result = 0;
  int arg = 0, width = 32;
};

struct LaunchState {
  const char* kernel = "";
  const std::function<void()>* body = nullptr;
  std::vector<Fiber> fibers;
  unsigned current = 0;
  ucontext_t scheduler{};
  std::string error;  // set by a fiber that found misuse; the scheduler throws it
  uint3 block;
  // this block's shared memory
  std::map<const SharedSite*, void*> shared;
  std::size_t shared_used = 0, dynamic_shared = 0;
  // the scheduler's stack (the OS thread's), as ASan needs it to switch back to it
  const void* scheduler_stack = nullptr;
  std::size_t scheduler_stack_size = 0;
  void* scheduler_fake_stack = nullptr;
#ifdef PTT_EMU_ASAN
  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<void, FreeDeleter>> asan_shared;  // this block's __shared__ arrays
#endif
};

thread_local Options g_options;
thread_local LaunchState* g_launch = nullptr;
thread_local std::uint64_t g_launch_count = 0;
thread_local std::vector<std::unique_ptr<char[]>> g_stacks;  // reused by every launch
thread_local std::unique_ptr<std::uint32_t[]> g_shared_arena;

// Stack switches announced to ASan (no-ops without it). Before a switch: start(where the fake stack
// of the frame being left is kept — nullptr when it is left for good —, the stack switched to);
// after it, on the new stack: finish(what start kept there, where to record the stack come from).
inline void switch_start([[maybe_unused]] void** fake_stack, [[maybe_unused]] const void* bottom,
                         [[maybe_unused]] std::size_t size) {
#ifdef PTT_EMU_ASAN
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#endif
}
inline void switch_finish([[maybe_unused]] void* fake_stack, [[maybe_unused]] const void** bottom_old,
                          [[maybe_unused]] std::size_t* size_old) {
#ifdef PTT_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, bottom_old, size_old);
#endif
}

/// Called on a fiber: switches back to the scheduler; returns when the scheduler resumes it.
void yield_to_scheduler(struct LaunchState& L, struct Fiber& f) {
  switch_start(&f.asan_fake_stack, L.scheduler_stack, L.scheduler_stack_size);
  swapcontext(&f.ctx, &L.scheduler);
  switch_finish(f.asan_fake_stack, nullptr, nullptr);
}

const char* collective_name(Collective kind) {
  switch (kind) {
    case Collective::ShflIdx:
      return "__shfl_sync";
    case Collective::ShflUp:
      return "__shfl_up_sync";
    case Collective::ShflDown:
      return "__shfl_down_sync";
    case Collective::ShflXor:
      return "__shfl_xor_sync";
    case Collective::Ballot:
      return "__ballot_sync";
    case Collective::Any:
      return "__any_sync";
    case Collective::All:
      return "__all_sync";
    case Collective::SyncWarp:
      return "__syncwarp";
  }
  return "?";
}

std::string where(const char* file, unsigned line) {
  std::string f = file;
  const auto slash = f.find_last_of('/');
  if (slash != std::string::npos) f = f.substr(slash + 1);
  return f + ":" + std::to_string(line);
}

std::string prefix(const LaunchState& L) {
  std::ostringstream os;
  os << "kernel '" << L.kernel << "', block (" << L.block.x << "," << L.block.y << "," << L.block.z << "): ";
  return os.str();
}

std::string describe(const Fiber& f) {
  std::ostringstream os;
  os << "thread (" << f.idx.x << "," << f.idx.y << "," << f.idx.z << ")";
  switch (f.state) {
    case State::Done:
      os << " has exited";
      break;
    case State::AtBarrier:
      os << " waits at __syncthreads at " << where(f.file, f.line);
      break;
    case State::AtWarp:
      os << " waits at " << collective_name(f.kind) << " at " << where(f.file, f.line);
      break;
    case State::Runnable:
      os << " is runnable";
      break;
  }
  return os.str();
}

LaunchState& in_kernel(const char* what) {
  if (g_launch == nullptr) throw KernelError(std::string(what) + " called outside a kernel");
  return *g_launch;
}

/// Called on a fiber after L.error was set: returns to the scheduler for good. The fiber's frames
/// are never unwound, so the caller must set L.error in a statement of its own: a temporary string
/// of this call's own expression would never be destroyed (LeakSanitizer reports it).
[[noreturn]] void abandon_fiber(LaunchState& L) {
  Fiber& f = L.fibers[L.current];
  f.state = State::Done;
  switch_start(nullptr, L.scheduler_stack, L.scheduler_stack_size);  // left for good
  swapcontext(&f.ctx, &L.scheduler);
  std::abort();  // never resumed
}

void fiber_entry() {
  LaunchState& L = *g_launch;
  switch_finish(nullptr, &L.scheduler_stack, &L.scheduler_stack_size);
  (*L.body)();
  L.fibers[L.current].state = State::Done;
  switch_start(nullptr, L.scheduler_stack, L.scheduler_stack_size);  // left for good
  // returning switches to uc_link, the scheduler
}

/// Prepares @p ctx to run fiber_entry on @p stack, then return to @p link. Not inlined: getcontext
/// "returns twice", which would make every local of the caller suspect (-Wclobbered).
__attribute__((noinline)) void make_fiber(ucontext_t& ctx, char* stack, ucontext_t* link) {
#ifdef PTT_EMU_ASAN
  ASAN_UNPOISON_MEMORY_REGION(stack, kStackBytes);  // frames of a fiber abandoned after an error
#endif
  getcontext(&ctx);
  ctx.uc_stack.ss_sp = stack;
  ctx.uc_stack.ss_size = kStackBytes;
  ctx.uc_link = link;
  makecontext(&ctx, fiber_entry, 0);
}

std::vector<unsigned> ordering(unsigned n, Order order, std::mt19937_64& rng) {
  std::vector<unsigned> v(n);
  std::iota(v.begin(), v.end(), 0u);
  if (order == Order::Reverse) std::reverse(v.begin(), v.end());
  if (order == Order::Random) std::shuffle(v.begin(), v.end(), rng);
  return v;
}

void check_launch(const char* kernel, dim3 grid, dim3 block, std::size_t dynamic_shared, const char* file,
                  int line) {
  std::ostringstream os;
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0)
    os << "grid (" << grid.x << "," << grid.y << "," << grid.z << ") has a zero dimension";
  else if (grid.x > 2147483647u || grid.y > 65535u || grid.z > 65535u)
    os << "grid (" << grid.x << "," << grid.y << "," << grid.z << ") exceeds (2^31-1, 65535, 65535)";
  else if (block.x == 0 || block.y == 0 || block.z == 0)
    os << "block (" << block.x << "," << block.y << "," << block.z << ") has a zero dimension";
  else if (threads > kMaxThreadsPerBlock || block.x > 1024 || block.y > 1024 || block.z > 64)
    os << "block (" << block.x << "," << block.y << "," << block.z << ") has " << threads
       << " threads: at most 1024 (and z <= 64)";
  else if (dynamic_shared > kMaxSharedBytes)
    os << dynamic_shared << " bytes of dynamic shared memory: at most " << kMaxSharedBytes;
  else
    return;
  throw KernelError("launch of kernel '" + std::string(kernel) + "' at " +
                    where(file, static_cast<unsigned>(line)) + ": invalid configuration: " + os.str());
}

/// Resolves the warp collectives that every named lane has reached; returns whether any was.
/// Throws (via the returned error) on a collective in a divergent branch.
bool resolve_warps(LaunchState& L) {
  bool progress = false;
  const unsigned n = static_cast<unsigned>(L.fibers.size());
  for (unsigned t = 0; t < n; ++t) {
    Fiber& first = L.fibers[t];
    if (first.state != State::AtWarp) continue;
    const unsigned base = t - t % 32, lane = t % 32;
    std::ostringstream err;
    err << collective_name(first.kind) << " at " << where(first.file, first.line) << " (warp " << base / 32
        << ", mask 0x" << std::hex << first.mask << std::dec << "): ";
    if ((first.mask >> lane & 1u) == 0) {
      L.error = prefix(L) + err.str() + "lane " + std::to_string(lane) + " calls it but is not in its mask";
      return false;
    }
    std::array<Fiber*, 32> lanes{};
    for (unsigned l = 0; l < 32; ++l) {
      if ((first.mask >> l & 1u) == 0 || base + l >= n) continue;
      Fiber& f = L.fibers[base + l];
      if (f.state != State::AtWarp || f.line != first.line || std::strcmp(f.file, first.file) != 0 ||
          f.kind != first.kind) {
        L.error = prefix(L) + err.str() + "lane " + std::to_string(l) +
                  " named in the mask never joins: " + describe(f) +
                  " (a warp collective in a divergent branch)";
        return false;
      }
      if (f.mask != first.mask) {
        L.error = prefix(L) + err.str() + "lane " + std::to_string(l) + " passes another mask";
        return false;
      }
      lanes[l] = &f;
    }
    std::uint64_t ballot = 0;
    for (unsigned l = 0; l < 32; ++l)
      if (lanes[l] != nullptr && lanes[l]->value != 0) ballot |= 1ull << l;
    const unsigned members = [&] {
      unsigned c = 0;
      for (auto* f : lanes) c += f != nullptr;
      return c;
    }();
    for (unsigned l = 0; l < 32; ++l) {
      Fiber* f = lanes[l];
      if (f == nullptr) continue;
      const int w = f->width;
      if (w <= 0 || w > 32 || (w & (w - 1)) != 0) {
        L.error = prefix(L) + err.str() + "width " + std::to_string(w) + " is not a power of two <= 32";
        return false;
      }
      const int il = static_cast<int>(l), seg = il & ~(w - 1);
      int src = il;
      switch (f->kind) {
        case Collective::ShflIdx:
          src = seg + (f->arg & (w - 1));
          break;
        case Collective::ShflUp:
          src = il - f->arg >= seg ? il - f->arg : il;
          break;
        case Collective::ShflDown:
          src = il + f->arg < seg + w ? il + f->arg : il;
          break;
        case Collective::ShflXor:
          src = ((il ^ f->arg) & ~(w - 1)) == seg ? il ^ f->arg : il;
          break;
        default:
          break;
      }
      switch (f->kind) {
        case Collective::ShflIdx:
        case Collective::ShflUp:
        case Collective::ShflDown:
        case Collective::ShflXor:
          if (src < 0 || src >= 32 || lanes[static_cast<unsigned>(src)] == nullptr) {
            L.error = prefix(L) + err.str() + "lane " + std::to_string(l) + " reads lane " +
                      std::to_string(src) + ", which does not take part";
            return false;
          }
          f->result = lanes[static_cast<unsigned>(src)]->value;
          break;
        case Collective::Ballot:
          f->result = ballot;
          break;
        case Collective::Any:
          f->result = ballot != 0;
          break;
        case Collective::All:
          f->result = static_cast<unsigned>(std::popcount(ballot)) == members;
          break;
        case Collective::SyncWarp:
          f->result = 0;
          break;
      }
    }
    for (Fiber* f : lanes)
      if (f != nullptr) f->state = State::Runnable;
    progress = true;
  }
  return progress;
}

/// All threads wait or are done and no warp collective is pending: release the barrier, finish the
/// block (returns false) or report the divergence.
bool release_barrier(LaunchState& L) {
  const Fiber* at = nullptr;
  const Fiber* done = nullptr;
  std::size_t waiting = 0;
  for (const Fiber& f : L.fibers) {
    if (f.state == State::Done) {
      if (done == nullptr) done = &f;
      continue;
    }
    ++waiting;
    if (at == nullptr) {
      at = &f;
    } else if (f.line != at->line || std::strcmp(f.file, at->file) != 0) {
      L.error = prefix(L) + "threads wait at different barriers: " + describe(*at) + ", " + describe(f) +
                " (__syncthreads in a divergent branch)";
      return false;
    }
  }
  if (at == nullptr) return false;  // every thread exited: the block is finished
  if (done != nullptr) {
    L.error = prefix(L) + "__syncthreads at " + where(at->file, at->line) + " is reached by " +
              std::to_string(waiting) + " of " + std::to_string(L.fibers.size()) + " threads; " +
              describe(*done) + " (__syncthreads in a divergent branch)";
    return false;
  }
  for (Fiber& f : L.fibers) f.state = State::Runnable;
  return true;
}

void fill_shared_poison() {
  if (!g_shared_arena) g_shared_arena = std::make_unique<std::uint32_t[]>(kMaxSharedBytes / 4 + 16);
  std::fill_n(g_shared_arena.get(), kMaxSharedBytes / 4 + 16, kSharedPoison);
}

}  // namespace

const char* order_name(Order order) {
  switch (order) {
    case Order::Forward:
      return "forward";
    case Order::Reverse:
      return "reverse";
    case Order::Random:
      return "random";
  }
  return "?";
}

Options options() { return g_options; }
void set_options(const Options& o) { g_options = o; }
std::uint64_t launch_count() { return g_launch_count; }

void* shared_memory(const SharedSite& site, std::size_t bytes, std::size_t align) {
  LaunchState& L = in_kernel("a __shared__ declaration");
  if (auto it = L.shared.find(&site); it != L.shared.end()) return it->second;
  align = std::max<std::size_t>(align, 16);
  const std::size_t offset = (L.shared_used + align - 1) / align * align;
  if (offset + bytes + L.dynamic_shared > kMaxSharedBytes) {
    L.error = prefix(L) + "__shared__ " + std::string(site.name) + " at " +
              where(site.file, static_cast<unsigned>(site.line)) + " brings the block's shared memory to " +
              std::to_string(offset + bytes + L.dynamic_shared) + " bytes: at most " +
              std::to_string(kMaxSharedBytes);
    abandon_fiber(L);
  }
#ifdef PTT_EMU_ASAN
  // A block of its own, exactly @p bytes long (rounded up to the alignment, as aligned_alloc needs):
  // an access past the end is an ASan report. Filled with NaN, as the arena.
  void* p = std::aligned_alloc(align, (bytes + align - 1) / align * align);
  if (p == nullptr) {
    L.error = prefix(L) + "out of host memory for __shared__ " + std::string(site.name);
    abandon_fiber(L);
  }
  L.asan_shared.emplace_back(p);
  std::fill_n(static_cast<std::uint32_t*>(p), (bytes + align - 1) / align * align / 4, kSharedPoison);
#else
  void* p = reinterpret_cast<char*>(g_shared_arena.get()) + offset;
#endif
  L.shared_used = offset + bytes;
  L.shared.emplace(&site, p);
  return p;
}

void syncthreads(Site loc) {
  LaunchState& L = in_kernel("__syncthreads");
  Fiber& f = L.fibers[L.current];
  f.state = State::AtBarrier;
  f.file = loc.file;
  f.line = loc.line;
  yield_to_scheduler(L, f);
}

std::uint64_t warp_collective(Collective kind, unsigned mask, std::uint64_t value, int arg, int width,
                              Site loc) {
  LaunchState& L = in_kernel(collective_name(kind));
  Fiber& f = L.fibers[L.current];
  f.state = State::AtWarp;
  f.file = loc.file;
  f.line = loc.line;
  f.kind = kind;
  f.mask = mask;
  f.value = value;
  f.arg = arg;
  f.width = width;
  yield_to_scheduler(L, f);
  return f.result;
}

void run_kernel(const char* kernel, dim3 grid, dim3 block, std::size_t dynamic_shared,
                const std::function<void()>& thread_body, const char* file, int line) {
  if (g_launch != nullptr)
    throw KernelError(std::string("kernel '") + kernel + "' launched from inside kernel '" +
                      g_launch->kernel + "': dynamic parallelism is not emulated");
  check_launch(kernel, grid, block, dynamic_shared, file, line);
  ++g_launch_count;
  const unsigned threads = block.x * block.y * block.z;
  while (g_stacks.size() < threads) g_stacks.emplace_back(new char[kStackBytes]);  // untouched until used

  LaunchState L;
  L.kernel = kernel;
  L.body = &thread_body;
  L.dynamic_shared = dynamic_shared;
  L.fibers.resize(threads);
  for (unsigned t = 0; t < threads; ++t) {
    L.fibers[t].linear = t;
    L.fibers[t].idx = {t % block.x, t / block.x % block.y, t / (block.x * block.y)};
  }
  struct Restore {
    ~Restore() { g_launch = nullptr; }
  } restore;
  g_launch = &L;
  blockDim = block;
  gridDim = grid;

  const Options opt = g_options;
  std::mt19937_64 rng(opt.seed);
  const unsigned long long nblocks = 1ull * grid.x * grid.y * grid.z;
  std::vector<unsigned long long> block_order(nblocks);
  std::iota(block_order.begin(), block_order.end(), 0ull);
  if (opt.order == Order::Reverse) std::reverse(block_order.begin(), block_order.end());
  if (opt.order == Order::Random) std::shuffle(block_order.begin(), block_order.end(), rng);

  for (const unsigned long long b : block_order) {
    L.block = {static_cast<unsigned>(b % grid.x), static_cast<unsigned>(b / grid.x % grid.y),
               static_cast<unsigned>(b / (1ull * grid.x * grid.y))};
    blockIdx = L.block;
    L.shared.clear();
#ifdef PTT_EMU_ASAN
    L.asan_shared.clear();
#endif
    L.shared_used = 0;
    fill_shared_poison();
    for (unsigned t = 0; t < threads; ++t) {
      L.fibers[t].state = State::Runnable;
      make_fiber(L.fibers[t].ctx, g_stacks[t].get(), &L.scheduler);
    }
    for (;;) {
      for (const unsigned t : ordering(threads, opt.order, rng)) {
        Fiber& f = L.fibers[t];
        if (f.state != State::Runnable) continue;
        L.current = t;
        threadIdx = f.idx;
        switch_start(&L.scheduler_fake_stack, g_stacks[t].get(), kStackBytes);
        swapcontext(&L.scheduler, &f.ctx);
        switch_finish(L.scheduler_fake_stack, nullptr, nullptr);
        if (!L.error.empty()) throw KernelError(L.error);
      }
      if (resolve_warps(L)) continue;
      if (!L.error.empty()) throw KernelError(L.error);
      const bool released = release_barrier(L);
      if (!L.error.empty()) throw KernelError(L.error);
      if (!released) break;
    }
  }
}

}  // namespace ptt::emu
