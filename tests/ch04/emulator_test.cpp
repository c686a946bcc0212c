// Chapter 04's GEMM kernels, unchanged, on the CUDA emulator (emulator/): every stage against a
// double-accumulated CPU reference, in three schedule orders (forward, reverse, seeded random),
// with results required to be bit-identical across the orders; and the emulator's own test: classic
// CUDA bugs planted one at a time in small kernels written here, each of which must be caught.
//
// How a run is judged (check_gemm): C starts as canary NaNs and every matrix lies inside a buffer
// of canaries (fences before and after, and padding columns when ld > cols), so
// - a wrong or missing value, or a value read from outside a matrix that reaches C (a NaN canary),
//   fails the comparison with the reference: max |got - want| / max |want| < 1e-5, NaN-proof
//   (ptt::test::relative_error);
// - a write outside C (its padding or its fences) fails the fence check;
// - a race fails the cross-order check: the three orders must give the same bits.
// Barrier and warp-collective misuse and bad launch configurations throw ptt::emu::KernelError.
//
// Shapes (M, N, K from {1, 7, 33, 65, 130}; every combination would be slow on fibers): the five
// cyclic shifts of (1, 7, 33, 65, 130) — each value in each position once — plus 1x1x1, K = 0
// (33x7x0) and 130x130x130; each in the four transpose layouts, packed at offset 0 and at odd
// offsets with padded leading dimensions.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "ch04/gemm/stages.hpp"
#include "ptt_emu/launch.hpp"
#include "test_util.hpp"

namespace {

namespace emu = ptt::emu;
using ptt::ch04::GemmProblem;

// Canaries: quiet NaNs with payloads no kernel computes, one for the operands and one for C (a NaN
// read from an operand's fence keeps its payload through the arithmetic: written into C's fence, it
// must not pass for C's canary).
constexpr std::uint32_t kOperandCanary = 0x7fc0beefu;
constexpr std::uint32_t kOutputCanary = 0x7fc0deadu;
constexpr int kFence = 256;  // canaries before and after each matrix

float from_bits(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
std::uint32_t to_bits(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

/// A row-major rows x cols matrix with leading dimension ld, at `offset` floats into a buffer of
/// canaries (kFence before, kFence after, ld - cols padding floats per row).
struct FencedMatrix {
  int rows = 0, cols = 0, ld = 0, offset = 0;
  std::uint32_t canary = 0;
  std::vector<float> buf;

  FencedMatrix(int r, int c, int ld_extra, int off, std::uint32_t canary_bits)
      : rows(r), cols(c), ld(c + ld_extra), offset(kFence + off), canary(canary_bits) {
    buf.assign(static_cast<std::size_t>(offset) + static_cast<std::size_t>(rows) * ld + kFence,
               from_bits(canary));
  }
  float* data() { return buf.data() + offset; }
  float& at(int r, int c) { return buf[static_cast<std::size_t>(offset + r * ld + c)]; }
  float at(int r, int c) const { return buf[static_cast<std::size_t>(offset + r * ld + c)]; }
  void fill_random(std::uint64_t stream) {
    const ptt::Matrix m = ptt::test::random_matrix(rows, cols, stream);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) at(r, c) = m(r, c);
  }
  void poison() { std::fill(buf.begin(), buf.end(), from_bits(canary)); }
  /// The elements rows x cols, packed.
  std::vector<float> values() const {
    std::vector<float> v;
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) v.push_back(at(r, c));
    return v;
  }
  /// Whether every float outside the rows x cols elements is still a canary.
  bool fences_intact() const {
    std::vector<bool> inside(buf.size(), false);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) inside[static_cast<std::size_t>(offset + r * ld + c)] = true;
    for (std::size_t i = 0; i < buf.size(); ++i)
      if (!inside[i] && to_bits(buf[i]) != canary) return false;
    return true;
  }
};

/// A GEMM case: shape, layouts, and whether the operands sit at odd offsets with padded rows.
struct Case {
  int M, N, K;
  bool ta, tb, padded;
};

std::string case_name(const Case& c) {
  return "M" + std::to_string(c.M) + "_N" + std::to_string(c.N) + "_K" + std::to_string(c.K) + "_" +
         (c.ta ? "T" : "N") + (c.tb ? "T" : "N") + (c.padded ? "_padded" : "_packed");
}

/// The operands and output of one case, in fenced buffers.
struct GemmSetup {
  Case c;
  FencedMatrix a, b, out;
  explicit GemmSetup(const Case& cs)
      : c(cs),
        a(cs.ta ? cs.K : cs.M, cs.ta ? cs.M : cs.K, cs.padded ? 3 : 0, cs.padded ? 1 : 0, kOperandCanary),
        b(cs.tb ? cs.N : cs.K, cs.tb ? cs.K : cs.N, cs.padded ? 5 : 0, cs.padded ? 3 : 0, kOperandCanary),
        out(cs.M, cs.N, cs.padded ? 2 : 0, cs.padded ? 2 : 0, kOutputCanary) {
    a.fill_random(1);
    b.fill_random(2);
  }
  GemmProblem problem() {
    return {c.M, c.N, c.K, {a.data(), a.ld, c.ta}, {b.data(), b.ld, c.tb}, out.data(), out.ld};
  }
  /// op(A) op(B), accumulated in double.
  std::vector<float> reference() const {
    std::vector<float> want;
    for (int i = 0; i < c.M; ++i)
      for (int j = 0; j < c.N; ++j) {
        double s = 0.0;
        for (int k = 0; k < c.K; ++k)
          s += double(c.ta ? a.at(k, i) : a.at(i, k)) * double(c.tb ? b.at(j, k) : b.at(k, j));
        want.push_back(static_cast<float>(s));
      }
    return want;
  }
};

constexpr emu::Order kOrders[] = {emu::Order::Forward, emu::Order::Reverse, emu::Order::Random};
constexpr double kTolerance = 1e-5;

/// Runs `launch` on the setup in all three orders and returns "" if every order matched the
/// reference, left C's fences intact and gave the same bits; otherwise what went wrong.
/// A KernelError propagates.
std::string check_gemm(GemmSetup& s, const std::function<void(const GemmProblem&)>& launch) {
  const std::vector<float> want = s.reference();
  std::vector<float> first;
  std::string verdict;
  for (const emu::Order order : kOrders) {
    const emu::ScopedOptions scoped({order, 2024});
    s.out.poison();
    const std::uint64_t launches = emu::launch_count();
    launch(s.problem());
    const std::string name = emu::order_name(order);
    if (emu::launch_count() == launches) return "nothing was launched";
    if (!s.out.fences_intact()) verdict += name + ": a write outside C (padding or fence); ";
    const double err = ptt::test::relative_error(s.out.values(), want);
    if (!(err < kTolerance))
      verdict += name + ": differs from the reference (error " + std::to_string(err) + "); ";
    if (order == emu::Order::Forward)
      first = s.out.buf;
    else if (std::memcmp(first.data(), s.out.buf.data(), first.size() * sizeof(float)) != 0)
      verdict += name + ": differs from the forward order (a race); ";
  }
  return verdict;
}

// --- Every stage of chapter 04 against the reference. ---------------------------------------------

using Launcher = void (*)(const GemmProblem&, cudaStream_t);

std::vector<Case> gemm_cases() {
  const int v[] = {1, 7, 33, 65, 130};
  std::vector<std::array<int, 3>> shapes;
  for (int s = 0; s < 5; ++s) shapes.push_back({v[s], v[(s + 1) % 5], v[(s + 2) % 5]});
  shapes.push_back({1, 1, 1});
  shapes.push_back({33, 7, 0});
  shapes.push_back({130, 130, 130});
  std::vector<Case> cases;
  for (const auto& sh : shapes)
    for (const bool ta : {false, true})
      for (const bool tb : {false, true})
        for (const bool padded : {false, true}) cases.push_back({sh[0], sh[1], sh[2], ta, tb, padded});
  return cases;
}

class EmulatedGemm : public ::testing::TestWithParam<std::tuple<Launcher, Case>> {};

TEST_P(EmulatedGemm, MatchesReferenceInEveryOrder) {
  const Launcher launcher = std::get<0>(GetParam());  // not a structured binding: Clang 14 cannot
  const Case c = std::get<1>(GetParam());             // capture those in the lambda below
  GemmSetup s(c);
  EXPECT_EQ(check_gemm(s, [&](const GemmProblem& p) { launcher(p, nullptr); }), "");
}

std::string gemm_param_name(const ::testing::TestParamInfo<std::tuple<Launcher, Case>>& info) {
  return case_name(std::get<1>(info.param));
}

#define PTT_GEMM_STAGE(Stage, launcher)                                                               \
  INSTANTIATE_TEST_SUITE_P(                                                                           \
      Stage, EmulatedGemm,                                                                            \
      ::testing::Combine(::testing::Values(&ptt::ch04::launcher), ::testing::ValuesIn(gemm_cases())), \
      gemm_param_name)
PTT_GEMM_STAGE(Naive, launch_gemm_naive);
PTT_GEMM_STAGE(Coalesced, launch_gemm_coalesced);
PTT_GEMM_STAGE(Smem, launch_gemm_smem);
PTT_GEMM_STAGE(Blocked2d, launch_gemm_blocked2d);
PTT_GEMM_STAGE(Vectorized, launch_gemm_vectorized);
PTT_GEMM_STAGE(Warptiled, launch_gemm_warptiled);
#undef PTT_GEMM_STAGE

// --- Planted bugs: small kernels with one classic mistake each; every one must be caught. ----------

constexpr int kT = 8;  // tile edge of the small tiled kernels (64 threads per block)

/// The control: a correct tiled GEMM (no transposes), the shape the bugs below break.
__global__ void tiled_ok(GemmProblem p) {
  PTT_SHARED(float, As, [kT][kT]);
  PTT_SHARED(float, Bs, [kT][kT]);
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int row = static_cast<int>(blockIdx.y) * kT + ty, col = static_cast<int>(blockIdx.x) * kT + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < p.K; k0 += kT) {
    As[ty][tx] = (row < p.M && k0 + tx < p.K) ? p.A.at(row, k0 + tx) : 0.0f;
    Bs[ty][tx] = (k0 + ty < p.K && col < p.N) ? p.B.at(k0 + ty, col) : 0.0f;
    __syncthreads();
    for (int k = 0; k < kT; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < p.M && col < p.N) p.C[row * p.ldc + col] = acc;
}

/// Bug: no barrier after the math: a fast thread overwrites the tile while others still read it.
__global__ void tiled_missing_second_barrier(GemmProblem p) {
  PTT_SHARED(float, As, [kT][kT]);
  PTT_SHARED(float, Bs, [kT][kT]);
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int row = static_cast<int>(blockIdx.y) * kT + ty, col = static_cast<int>(blockIdx.x) * kT + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < p.K; k0 += kT) {
    As[ty][tx] = (row < p.M && k0 + tx < p.K) ? p.A.at(row, k0 + tx) : 0.0f;
    Bs[ty][tx] = (k0 + ty < p.K && col < p.N) ? p.B.at(k0 + ty, col) : 0.0f;
    __syncthreads();
    for (int k = 0; k < kT; ++k) acc += As[ty][k] * Bs[k][tx];
  }
  if (row < p.M && col < p.N) p.C[row * p.ldc + col] = acc;
}

/// Bug: no barrier between loading the tile and using it: threads read elements nobody wrote yet.
__global__ void tiled_missing_first_barrier(GemmProblem p) {
  PTT_SHARED(float, As, [kT][kT]);
  PTT_SHARED(float, Bs, [kT][kT]);
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int row = static_cast<int>(blockIdx.y) * kT + ty, col = static_cast<int>(blockIdx.x) * kT + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < p.K; k0 += kT) {
    As[ty][tx] = (row < p.M && k0 + tx < p.K) ? p.A.at(row, k0 + tx) : 0.0f;
    Bs[ty][tx] = (k0 + ty < p.K && col < p.N) ? p.B.at(k0 + ty, col) : 0.0f;
    for (int k = 0; k < kT; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < p.M && col < p.N) p.C[row * p.ldc + col] = acc;
}

/// Bug: the k loop stops before a last, partial tile.
__global__ void tiled_skips_last_tile(GemmProblem p) {
  PTT_SHARED(float, As, [kT][kT]);
  PTT_SHARED(float, Bs, [kT][kT]);
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int row = static_cast<int>(blockIdx.y) * kT + ty, col = static_cast<int>(blockIdx.x) * kT + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 + kT <= p.K; k0 += kT) {
    As[ty][tx] = (row < p.M && k0 + tx < p.K) ? p.A.at(row, k0 + tx) : 0.0f;
    Bs[ty][tx] = (k0 + ty < p.K && col < p.N) ? p.B.at(k0 + ty, col) : 0.0f;
    __syncthreads();
    for (int k = 0; k < kT; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < p.M && col < p.N) p.C[row * p.ldc + col] = acc;
}

/// Bug: the tile loads have no edge guard (no zero outside the matrices).
__global__ void tiled_no_load_guard(GemmProblem p) {
  PTT_SHARED(float, As, [kT][kT]);
  PTT_SHARED(float, Bs, [kT][kT]);
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int row = static_cast<int>(blockIdx.y) * kT + ty, col = static_cast<int>(blockIdx.x) * kT + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < p.K; k0 += kT) {
    As[ty][tx] = p.A.at(row, k0 + tx);
    Bs[ty][tx] = p.B.at(k0 + ty, col);
    __syncthreads();
    for (int k = 0; k < kT; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < p.M && col < p.N) p.C[row * p.ldc + col] = acc;
}

/// Bug: the edge guard is off by one (> instead of >=): threads on row M / column N read past the
/// operands and write past C.
__global__ void naive_off_by_one_guard(GemmProblem p) {
  const int col = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int row = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (row > p.M || col > p.N) return;
  float acc = 0.0f;
  for (int k = 0; k < p.K; ++k) acc += p.A.at(row, k) * p.B.at(k, col);
  p.C[row * p.ldc + col] = acc;
}

/// Bug: the k loop runs one step too far (<= K): it reads one element past each row of A.
__global__ void naive_k_loop_off_by_one(GemmProblem p) {
  const int col = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int row = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (row >= p.M || col >= p.N) return;
  float acc = 0.0f;
  for (int k = 0; k <= p.K; ++k) acc += p.A.data[row * p.A.ld + k] * (k < p.K ? p.B.at(k, col) : 1.0f);
  p.C[row * p.ldc + col] = acc;
}

/// Bug: A is indexed with B's leading dimension.
__global__ void naive_swapped_leading_dimension(GemmProblem p) {
  const int col = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int row = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (row >= p.M || col >= p.N) return;
  float acc = 0.0f;
  for (int k = 0; k < p.K; ++k) acc += p.A.data[row * p.B.ld + k] * p.B.data[k * p.B.ld + col];
  p.C[row * p.ldc + col] = acc;
}

/// Bug: C is written at [col, row] (the output's indices swapped).
__global__ void naive_transposed_store(GemmProblem p) {
  const int col = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int row = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (row >= p.M || col >= p.N) return;
  float acc = 0.0f;
  for (int k = 0; k < p.K; ++k) acc += p.A.at(row, k) * p.B.at(k, col);
  p.C[col * p.ldc + row] = acc;
}

/// Bug: the grid has one block too few along N (floor instead of ceiling division).
void launch_grid_rounded_down(const GemmProblem& p) {
  PTT_LAUNCH(tiled_ok, dim3(static_cast<unsigned>(p.N / kT), static_cast<unsigned>((p.M + kT - 1) / kT)),
             dim3(kT, kT), 0, nullptr)
  (p);
}

void launch_tiled(void (*kernel)(GemmProblem), const GemmProblem& p) {
  PTT_LAUNCH(kernel,
             dim3(static_cast<unsigned>((p.N + kT - 1) / kT), static_cast<unsigned>((p.M + kT - 1) / kT)),
             dim3(kT, kT), 0, nullptr)
  (p);
}
void launch_naive(void (*kernel)(GemmProblem), const GemmProblem& p) {
  PTT_LAUNCH(kernel, dim3(static_cast<unsigned>((p.N + 15) / 16), static_cast<unsigned>((p.M + 15) / 16)),
             dim3(16, 16), 0, nullptr)
  (p);
}

/// A shape with partial tiles everywhere, padded, not transposed (the bug kernels read A and B
/// without transposes).
GemmSetup bug_setup() { return GemmSetup({19, 21, 13, false, false, true}); }

TEST(PlantedBug, ControlCorrectKernelPasses) {
  GemmSetup s = bug_setup();
  EXPECT_EQ(check_gemm(s, [](const GemmProblem& p) { launch_tiled(tiled_ok, p); }), "");
}

TEST(PlantedBug, MissingBarrierAfterMathIsARaceBetweenOrders) {
  GemmSetup s = bug_setup();
  const std::string verdict =
      check_gemm(s, [](const GemmProblem& p) { launch_tiled(tiled_missing_second_barrier, p); });
  EXPECT_NE(verdict.find("differs from the forward order (a race)"), std::string::npos) << verdict;
}

TEST(PlantedBug, MissingBarrierBeforeMathReadsUnwrittenSharedMemory) {
  GemmSetup s = bug_setup();
  const std::string verdict =
      check_gemm(s, [](const GemmProblem& p) { launch_tiled(tiled_missing_first_barrier, p); });
  // The tile is NaN until written: the first threads to run read NaN (error: inf).
  EXPECT_NE(verdict.find("forward: differs from the reference (error inf)"), std::string::npos) << verdict;
}

TEST(PlantedBug, SkippedLastTile) {
  GemmSetup s = bug_setup();
  const std::string verdict =
      check_gemm(s, [](const GemmProblem& p) { launch_tiled(tiled_skips_last_tile, p); });
  EXPECT_NE(verdict.find("forward: differs from the reference"), std::string::npos) << verdict;
}

TEST(PlantedBug, MissingEdgeGuardOnTileLoads) {
  GemmSetup s = bug_setup();
  const std::string verdict =
      check_gemm(s, [](const GemmProblem& p) { launch_tiled(tiled_no_load_guard, p); });
  EXPECT_NE(verdict.find("forward: differs from the reference (error inf)"), std::string::npos) << verdict;
}

TEST(PlantedBug, OffByOneEdgeGuardWritesOutsideC) {
  GemmSetup s = bug_setup();
  const std::string verdict =
      check_gemm(s, [](const GemmProblem& p) { launch_naive(naive_off_by_one_guard, p); });
  EXPECT_NE(verdict.find("forward: a write outside C"), std::string::npos) << verdict;
}

TEST(PlantedBug, OffByOneKLoopReadsPastTheRow) {
  GemmSetup s = bug_setup();
  const std::string verdict =
      check_gemm(s, [](const GemmProblem& p) { launch_naive(naive_k_loop_off_by_one, p); });
  // The element past each row of A is a NaN canary (padding): it reaches C.
  EXPECT_NE(verdict.find("forward: differs from the reference (error inf)"), std::string::npos) << verdict;
}

TEST(PlantedBug, SwappedLeadingDimension) {
  GemmSetup s = bug_setup();
  const std::string verdict =
      check_gemm(s, [](const GemmProblem& p) { launch_naive(naive_swapped_leading_dimension, p); });
  EXPECT_NE(verdict.find("forward: differs from the reference"), std::string::npos) << verdict;
}

TEST(PlantedBug, TransposedStore) {
  GemmSetup s = bug_setup();
  const std::string verdict =
      check_gemm(s, [](const GemmProblem& p) { launch_naive(naive_transposed_store, p); });
  EXPECT_NE(verdict.find("forward: "), std::string::npos) << verdict;
}

TEST(PlantedBug, GridRoundedDownMissesTheLastColumns) {
  GemmSetup s = bug_setup();
  const std::string verdict = check_gemm(s, launch_grid_rounded_down);
  // Columns 16..20 of C are never written: they keep the canary NaN.
  EXPECT_NE(verdict.find("forward: differs from the reference (error inf)"), std::string::npos) << verdict;
}

// Barrier and warp misuse: reported with the kernel's name and the line, never a hang.

constexpr int kBranchBarrierLine = __LINE__ + 3;
__global__ void barrier_in_branch(float* out) {
  out[threadIdx.x] = 1.0f;
  if (threadIdx.x < 16) __syncthreads();
  out[threadIdx.x] += 1.0f;
}

constexpr int kIfBarrierLine = __LINE__ + 4;
constexpr int kElseBarrierLine = __LINE__ + 5;
__global__ void barrier_in_if_and_else(float* out) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.0f;
}

constexpr int kBarrierAfterExitLine = __LINE__ + 4;
__global__ void barrier_after_early_exit(float* out, int n) {
  const int i = static_cast<int>(threadIdx.x);
  if (i >= n) return;
  __syncthreads();
  out[i] = 1.0f;
}

constexpr int kDivergentShuffleLine = __LINE__ + 5;
__global__ void shuffle_in_divergent_branch(float* out) {
  const unsigned lane = threadIdx.x % 32;
  float v = static_cast<float>(lane);
  if (lane < 16) {
    v += __shfl_down_sync(0xffffffffu, v, 8);
  }
  out[threadIdx.x] = v;
}

/// Expects a KernelError whose message names @p kernel and the line @p line, and @p what.
template <class F>
void expect_kernel_error(F&& f, const std::string& kernel, int line, const std::string& what) {
  for (const emu::Order order : kOrders) {
    const emu::ScopedOptions scoped({order, 7});
    try {
      f();
      ADD_FAILURE() << "no KernelError in order " << emu::order_name(order);
    } catch (const emu::KernelError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("'" + kernel + "'"), std::string::npos) << msg;
      EXPECT_NE(msg.find("emulator_test.cpp:" + std::to_string(line)), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  }
}

TEST(PlantedBug, BarrierInDivergentBranchIsReported) {
  std::vector<float> out(64);
  expect_kernel_error(
      [&] {
        PTT_LAUNCH(barrier_in_branch, 2, 64, 0, nullptr)
        (out.data());
      },
      "barrier_in_branch", kBranchBarrierLine, "__syncthreads in a divergent branch");
}

TEST(PlantedBug, BarriersInIfAndElseAreReported) {
  std::vector<float> out(64);
  try {
    PTT_LAUNCH(barrier_in_if_and_else, 1, 64, 0, nullptr)(out.data());
    ADD_FAILURE() << "no KernelError";
  } catch (const emu::KernelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("different barriers"), std::string::npos) << msg;
    EXPECT_NE(msg.find(":" + std::to_string(kIfBarrierLine)), std::string::npos) << msg;
    EXPECT_NE(msg.find(":" + std::to_string(kElseBarrierLine)), std::string::npos) << msg;
  }
}

TEST(PlantedBug, BarrierAfterEarlyExitIsReported) {
  std::vector<float> out(64);
  expect_kernel_error(
      [&] {
        PTT_LAUNCH(barrier_after_early_exit, 1, 64, 0, nullptr)
        (out.data(), 50);
      },
      "barrier_after_early_exit", kBarrierAfterExitLine, "has exited");
  // The same kernel is fine when no thread exits early.
  EXPECT_NO_THROW(PTT_LAUNCH(barrier_after_early_exit, 1, 64, 0, nullptr)(out.data(), 64));
}

TEST(PlantedBug, ShuffleInDivergentBranchIsReported) {
  std::vector<float> out(64);
  expect_kernel_error(
      [&] {
        PTT_LAUNCH(shuffle_in_divergent_branch, 1, 64, 0, nullptr)
        (out.data());
      },
      "shuffle_in_divergent_branch", kDivergentShuffleLine, "divergent branch");
}

// Launch limits.

__global__ void too_much_shared(float* out) {
  PTT_SHARED(float, big, [13 * 1024]);  // 52 KB > 48 KB
  big[threadIdx.x] = 1.0f;
  out[threadIdx.x] = big[threadIdx.x];
}
__global__ void write_index(float* out) { out[blockIdx.x * blockDim.x + threadIdx.x] = 1.0f; }

TEST(PlantedBug, TooManyThreadsPerBlockIsRefused) {
  std::vector<float> out(33 * 32);
  EXPECT_THROW(PTT_LAUNCH(write_index, 1, dim3(33, 32), 0, nullptr)(out.data()), emu::KernelError);
  EXPECT_THROW(PTT_LAUNCH(write_index, 1, dim3(1, 1, 65), 0, nullptr)(out.data()), emu::KernelError);
  EXPECT_NO_THROW(PTT_LAUNCH(write_index, 1, dim3(32, 32), 0, nullptr)(out.data()));
}

TEST(PlantedBug, TooMuchSharedMemoryIsRefused) {
  std::vector<float> out(32);
  try {
    PTT_LAUNCH(too_much_shared, 1, 32, 0, nullptr)(out.data());
    ADD_FAILURE() << "no KernelError";
  } catch (const emu::KernelError& e) {
    EXPECT_NE(std::string(e.what()).find("__shared__ big"), std::string::npos) << e.what();
  }
  EXPECT_THROW(PTT_LAUNCH(write_index, 1, 32, 49 * 1024, nullptr)(out.data()), emu::KernelError);
}

TEST(PlantedBug, EmptyGridIsRefused) {
  std::vector<float> out(32);
  EXPECT_THROW(PTT_LAUNCH(write_index, 0, 32, 0, nullptr)(out.data()), emu::KernelError);
  EXPECT_THROW(PTT_LAUNCH(write_index, dim3(1, 0), 32, 0, nullptr)(out.data()), emu::KernelError);
  EXPECT_THROW(PTT_LAUNCH(write_index, 1, 0, 0, nullptr)(out.data()), emu::KernelError);
}

// --- The emulator's semantics. ----------------------------------------------------------------------

/// Each block reads its shared array before writing it: NaN at the start of EVERY block (the first
/// block's values do not leak into the next), then writes it.
__global__ void read_shared_then_write(float* out) {
  PTT_SHARED(float, s, [64]);
  out[blockIdx.x * blockDim.x + threadIdx.x] = s[threadIdx.x];
  __syncthreads();
  s[threadIdx.x] = 1.0f;
}

TEST(Emulator, SharedMemoryIsNaNAtTheStartOfEveryBlock) {
  std::vector<float> out(3 * 64, 0.0f);
  PTT_LAUNCH(read_shared_then_write, 3, 64, 0, nullptr)(out.data());
  for (const float v : out) ASSERT_TRUE(std::isnan(v));
}

/// Warp sums by xor butterfly and by shuffling down, a ballot and an inclusive scan by shuffling up.
__global__ void warp_collectives(float* sums, unsigned* ballots, int* scans) {
  const int lane = static_cast<int>(threadIdx.x % 32);
  float x = static_cast<float>(threadIdx.x);
  for (int off = 16; off > 0; off /= 2) x += __shfl_xor_sync(0xffffffffu, x, off);
  float d = static_cast<float>(threadIdx.x);
  for (int off = 16; off > 0; off /= 2) d += __shfl_down_sync(0xffffffffu, d, static_cast<unsigned>(off));
  const unsigned b = __ballot_sync(0xffffffffu, lane % 3 == 0);
  int s = 1;
  for (int off = 1; off < 32; off *= 2) {
    const int o = __shfl_up_sync(0xffffffffu, s, static_cast<unsigned>(off));
    if (lane >= off) s += o;
  }
  sums[threadIdx.x] = x;
  if (lane == 0) sums[64 + threadIdx.x / 32] = d;
  ballots[threadIdx.x] = b;
  scans[threadIdx.x] = s;
}

TEST(Emulator, WarpShufflesBallotAndScan) {
  for (const emu::Order order : kOrders) {
    const emu::ScopedOptions scoped({order, 3});
    std::vector<float> sums(66, -1.0f);
    std::vector<unsigned> ballots(64);
    std::vector<int> scans(64);
    PTT_LAUNCH(warp_collectives, 1, 64, 0, nullptr)(sums.data(), ballots.data(), scans.data());
    for (int t = 0; t < 64; ++t) {
      const float warp_sum = t < 32 ? 496.0f : 1520.0f;  // 0+..+31, 32+..+63
      EXPECT_EQ(sums[static_cast<std::size_t>(t)], warp_sum) << t;
      EXPECT_EQ(ballots[static_cast<std::size_t>(t)], 0x49249249u) << t;
      EXPECT_EQ(scans[static_cast<std::size_t>(t)], t % 32 + 1) << t;
    }
    EXPECT_EQ(sums[64], 496.0f);
    EXPECT_EQ(sums[65], 1520.0f);
  }
}

/// Every thread appends its linear index: the order of the appends is the schedule.
__global__ void record_order(int* log, int* count) {
  const int at = atomicAdd(count, 1);
  log[at] = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
}

TEST(Emulator, OrdersRunThreadsForwardReverseAndSeededRandom) {
  auto run = [](emu::Order order, std::uint64_t seed) {
    const emu::ScopedOptions scoped({order, seed});
    std::vector<int> log(128, -1);
    int count = 0;
    PTT_LAUNCH(record_order, 2, 64, 0, nullptr)(log.data(), &count);
    return log;
  };
  const std::vector<int> fwd = run(emu::Order::Forward, 0), rev = run(emu::Order::Reverse, 0);
  for (int i = 0; i < 128; ++i) {
    EXPECT_EQ(fwd[static_cast<std::size_t>(i)], i);
    EXPECT_EQ(rev[static_cast<std::size_t>(i)], 127 - i);
  }
  EXPECT_EQ(run(emu::Order::Random, 5), run(emu::Order::Random, 5));  // seeded: reproducible
  EXPECT_NE(run(emu::Order::Random, 5), run(emu::Order::Random, 6));
  EXPECT_NE(run(emu::Order::Random, 5), fwd);
}

}  // namespace

// Index arithmetic in 64 bits (issue: a product of two ints overflowed past 2^31 elements). The
// offsets are computed, never dereferenced, so no 8 GB matrix is needed to test them.
TEST(GemmIndex, OffsetsPast2To31ElementsDoNotOverflow) {
  const int big = 50000;  // 50000 * 50000 = 2.5e9 > 2^31 - 1
  ptt::ch04::Operand a{nullptr, big, false};
  EXPECT_EQ(a.offset(big - 1, big - 1), 2499999999LL);
  a.trans = true;
  EXPECT_EQ(a.offset(3, big - 2), static_cast<long long>(big - 2) * big + 3);
  ptt::ch04::GemmProblem p;
  p.ldc = big;
  EXPECT_EQ(p.c_offset(big - 1, 7), static_cast<long long>(big - 1) * big + 7);
  EXPECT_GT(p.c_offset(big - 1, big - 1), 2147483647LL);
}
