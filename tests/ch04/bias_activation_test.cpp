// Chapter 04's fused forward epilogue (exercise 04.3, contracts/ch04/bias_activation.hpp), tested
// WITHOUT a GPU: bias_activation_thread is the function every thread of the kernel runs (its host
// version, emitted by nvcc), and these tests call it for every thread of a grid, as the GPU would.
// The threads of this kernel never share data, so no barrier is emulated. Built against the
// solution (ch04_tests) and the exercise (ch04_tests_exercise).
//
// What they prove:
//   - the values: every element of Y is act(Y + b[column]), bit for bit (one float add and one
//     compare per element: there is nothing to round differently), on shapes that are not
//     multiples of a warp or a block (1 x N, N x 1, 37 x 53), with grids smaller than Y (a thread
//     handles several elements) and larger (most threads have nothing to do);
//   - the bounds: floats past the end of Y stay untouched, and a bias read past b's cols entries
//     reads NaN (the buffer is poisoned there), so it cannot go unnoticed;
//   - the coalescing: run ALONE, thread t changes exactly the elements t, t + T, t + 2T, ... of the
//     row-major buffer (T threads in the grid), so the lanes of a warp touch consecutive floats. An
//     index that walks Y column by column gives the right values and fails only here;
//   - on the CUDA emulator only (ch04_emulator_tests[_exercise], PTT_CH04_TEST_ON_EMULATOR): the
//     whole kernel through its launcher, as the trainer calls it.
#include "ch04/bias_activation.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "test_util.hpp"

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kGuard = -777.0f;  // what the floats after Y hold; no thread may change them
constexpr std::size_t kGuards = 64;

/// Y [rows, cols] of N(0, 1) values followed by kGuards guard floats.
std::vector<float> make_y(int rows, int cols, std::uint64_t stream) {
  const std::size_t n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
  std::vector<float> y(n + kGuards, kGuard);
  if (n > 0) {
    const ptt::Matrix m = ptt::test::random_matrix(rows, cols, stream);
    for (std::size_t i = 0; i < n; ++i) y[i] = m.data()[i];
  }
  return y;
}

/// b [cols] of N(0, 1) values (so the bias flips the sign of many sums), then NaN for as many
/// entries as Y has rows: a bias indexed by anything but the column reads NaN.
std::vector<float> make_bias(int rows, int cols, std::uint64_t stream) {
  std::vector<float> b(static_cast<std::size_t>(cols) + static_cast<std::size_t>(rows) + kGuards, kNaN);
  if (cols > 0) {
    const ptt::Vector v = ptt::test::random_vector(cols, stream);
    for (int c = 0; c < cols; ++c) b[static_cast<std::size_t>(c)] = v[c];
  }
  return b;
}

/// Every thread of a grid of @p threads threads, in order.
void run_grid(std::vector<float>& y, const std::vector<float>& b, int rows, int cols, bool relu,
              std::size_t threads) {
  for (std::size_t t = 0; t < threads; ++t)
    ptt::ch04::bias_activation_thread(y.data(), b.data(), rows, cols, relu, t, threads);
}

/// How many guard floats after the first @p n were changed.
int guards_changed(const std::vector<float>& y, std::size_t n) {
  int changed = 0;
  for (std::size_t i = n; i < y.size(); ++i) changed += !(y[i] == kGuard);
  return changed;
}

// ---- the values, on odd shapes and grids ------------------------------------------------------

using Case = std::tuple<int, int, int, bool>;  // rows, cols, threads in the grid, relu
class BiasActivationGrid : public ::testing::TestWithParam<Case> {};

TEST_P(BiasActivationGrid, MatchesCpuReferenceAndStaysInBounds) {
  const auto [rows, cols, threads, relu] = GetParam();
  const std::size_t n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
  const std::vector<float> y0 = make_y(rows, cols, 11);
  const std::vector<float> b = make_bias(rows, cols, 12);
  std::vector<float> y = y0;
  run_grid(y, b, rows, cols, relu, static_cast<std::size_t>(threads));
  int wrong = 0;
  std::string first;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const std::size_t i =
          static_cast<std::size_t>(r) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(c);
      const float v = y0[i] + b[static_cast<std::size_t>(c)];
      const float want = relu ? (v > 0.0f ? v : 0.0f) : v;
      if (!(y[i] == want)) {  // NaN counts as wrong
        if (wrong++ == 0) {
          std::ostringstream s;
          s << "Y[" << r << ", " << c << "] = " << y[i] << " (was " << y0[i] << ", bias "
            << b[static_cast<std::size_t>(c)] << "), want " << want;
          first = s.str();
        }
      }
    }
  EXPECT_EQ(wrong, 0) << "elements not equal to " << (relu ? "ReLU(Y + b[column])" : "Y + b[column]")
                      << "; the first: " << first;
  EXPECT_EQ(guards_changed(y, n), 0) << "floats after the end of Y were written";
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const auto [rows, cols, threads, relu] = info.param;
  return std::to_string(rows) + "x" + std::to_string(cols) + "_threads" + std::to_string(threads) +
         (relu ? "_relu" : "_linear");
}

INSTANTIATE_TEST_SUITE_P(OddShapes, BiasActivationGrid,
                         ::testing::Combine(::testing::Values(1, 37, 300), ::testing::Values(1, 53, 300),
                                            ::testing::Values(32, 256, 4096), ::testing::Bool()),
                         case_name);

#ifdef PTT_CH04_TEST_ON_EMULATOR
// The launcher given in the .cu file, its kernel run by the CUDA emulator (emulator/): the grid it
// picks, blockIdx/threadIdx, the per-thread function, all as on a GPU.
TEST(BiasActivationEmulated, WholeKernelMatchesCpuReference) {
  for (const auto& [rows, cols] :
       {std::pair{1, 300}, std::pair{300, 1}, std::pair{37, 53}, std::pair{300, 53}})
    for (const bool relu : {false, true}) {
      const std::size_t n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
      const std::vector<float> y0 = make_y(rows, cols, 15);
      const std::vector<float> b = make_bias(rows, cols, 16);
      std::vector<float> y = y0;
      ptt::ch04::bias_activation(y.data(), b.data(), rows, cols, relu, nullptr);
      int wrong = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const float v = y0[i] + b[i % static_cast<std::size_t>(cols)];
        wrong += !(y[i] == (relu ? (v > 0.0f ? v : 0.0f) : v));
      }
      EXPECT_EQ(wrong, 0) << rows << "x" << cols << (relu ? " relu" : " linear")
                          << ": elements of the emulated kernel's Y not equal to the CPU reference";
      EXPECT_EQ(guards_changed(y, n), 0) << rows << "x" << cols << ": floats after the end of Y were written";
    }
}
#endif

// ---- which element each thread owns: coalescing -----------------------------------------------

using Ownership = std::tuple<int, int, int>;  // rows, cols, threads in the grid
class BiasActivationOwnership : public ::testing::TestWithParam<Ownership> {};

TEST_P(BiasActivationOwnership, ConsecutiveThreadsOwnConsecutiveFloats) {
  const auto [rows, cols, threads] = GetParam();
  const std::size_t n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
  const std::size_t T = static_cast<std::size_t>(threads);
  // A bias of 1 and no ReLU: every element a thread handles changes, and only those.
  std::vector<float> b(static_cast<std::size_t>(cols) + static_cast<std::size_t>(rows) + kGuards, kNaN);
  for (int c = 0; c < cols; ++c) b[static_cast<std::size_t>(c)] = 1.0f;
  int wrong_threads = 0;
  std::string first;
  for (std::size_t t = 0; t < T; ++t) {
    std::vector<float> y(n + kGuards, kGuard);
    for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<float>(i);
    ptt::ch04::bias_activation_thread(y.data(), b.data(), rows, cols, false, t, T);
    std::set<std::size_t> got, want;
    for (std::size_t i = 0; i < y.size(); ++i)
      if (!(y[i] == (i < n ? static_cast<float>(i) : kGuard))) got.insert(i);
    for (std::size_t i = t; i < n; i += T) want.insert(i);
    if (got != want && wrong_threads++ == 0) {
      std::ostringstream s;
      s << "thread " << t << " of " << T << " changed {";
      for (const std::size_t i : got) s << ' ' << i;
      s << " }, want {";
      for (const std::size_t i : want) s << ' ' << i;
      s << " }";
      first = s.str();
    }
  }
  EXPECT_EQ(wrong_threads, 0) << "thread t must handle the floats t, t + T, t + 2T, ... of the row-major "
                                 "buffer (lanes of a warp on consecutive addresses); the first wrong: "
                              << first;
}

std::string ownership_name(const ::testing::TestParamInfo<Ownership>& info) {
  const auto [rows, cols, threads] = info.param;
  return std::to_string(rows) + "x" + std::to_string(cols) + "_threads" + std::to_string(threads);
}

// 5 x 7 with a warp-and-more grid (one element per thread, 29 idle) and with 8 threads (several
// each); 3 x 40 with one warp: its lanes cross a row boundary.
INSTANTIATE_TEST_SUITE_P(Grids, BiasActivationOwnership,
                         ::testing::Values(Ownership{5, 7, 64}, Ownership{5, 7, 8}, Ownership{3, 40, 32}),
                         ownership_name);

// ---- an empty batch -------------------------------------------------------------------------

// Passes on the untouched stub too (nothing to do), so tests/ch04/todo_tests.txt leaves it out.
TEST(BiasActivationEmpty, EmptyBatchTouchesNothing) {
  const int rows = 0, cols = 10;
  std::vector<float> y = make_y(rows, cols, 13);
  const std::vector<float> b = make_bias(rows, cols, 14);
  for (const bool relu : {false, true}) run_grid(y, b, rows, cols, relu, 256);
  EXPECT_EQ(guards_changed(y, 0), 0) << "an empty batch has no element to write";
}

}  // namespace
