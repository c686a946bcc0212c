// Chapter 04's register blocking (exercise 04.4, contracts/ch04/register_tile.hpp), tested WITHOUT a
// GPU: register_tile_accumulate is the step every thread of kernel v4 runs once per k-tile (its
// host version, emitted by nvcc from 4_blocked2d.cu; on the CUDA emulator's build, the same file
// compiled as C++), and these tests call it as the kernel does, between the barriers. Built
// against the solution (ch04_tests, ch04_emulator_tests) and the exercise (ch04_tests_exercise,
// ch04_emulator_tests_exercise).
//
// What they prove:
//   - one call, for every thread of the block: each of the thread's TM x TN accumulators gains
//     sum_k As[k][m] * Bs[k][n] of its own row m and column n, ADDED to what it held (they start
//     at distinct nonzero values, as earlier k-tiles leave them), on a full tile and on the tiles of
//     blocks at the matrices' edges, zero past M, N or K as the kernel's loads leave them;
//   - which elements a thread reads: tiles NaN everywhere but the thread's own TM columns of As and
//     TN columns of Bs must still give finite, right accumulators (a thread that reads another
//     thread's rows or columns gets NaN), at the block's four corners and inside;
//   - the whole of v4, emulated block by block on the CPU: the tiles filled as the kernel's loads
//     fill them, the step run for all 256 threads of a block, k-tile after k-tile, then stored;
//     blocks that overhang M and N and k-tiles that overhang K, and up to 17 k-tiles (the
//     accumulators must carry from one call to the next), against a double-accumulated reference;
//   - on the CUDA emulator (ch04_emulator_tests[_exercise]), Blocked2d/EmulatedGemm.* in
//     emulator_test.cpp runs the whole kernel, its loads and barriers included.
// Error measure: |got - want| / max(1, |want|) per accumulator, and max |C - R| / max |R| for the
// GEMM (test_util.hpp); FP32 sums of at most a few hundred terms stay far below the 1e-5 allowed,
// and NaN fails both.
//
// Not tested: that the thread reads each of its TM + TN values once per k (the source of the 8x
// saving). The function reads plain arrays, and counting its reads would need an accessor type in
// its signature, i.e. a template in the kernel's hot loop. The README's question 2 counts the
// solution's shared-memory loads in its PTX (scripts/ptx_vector_ops.sh) instead.
#include "ch04/register_tile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "test_util.hpp"

namespace {

using ptt::ch04::blocked2d::BK;
using ptt::ch04::blocked2d::BM;
using ptt::ch04::blocked2d::BN;
using ptt::ch04::blocked2d::TM;
using ptt::ch04::blocked2d::TN;
constexpr int kThreadRows = BM / TM, kThreadCols = BN / TN;  // 16 x 16 = 256 threads
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// The two shared tiles of one k-tile, as the kernel declares them.
struct Tiles {
  float As[BK][BM];
  float Bs[BK][BN];
};

/// One thread's accumulators.
struct Accumulators {
  float v[TM][TN] = {};
};

/// What earlier k-tiles left in the accumulators: distinct, nonzero, different for every thread.
float start_value(int tr, int tc, int i, int j) {
  return 0.5f + 0.25f * static_cast<float>(tr) - 0.125f * static_cast<float>(tc) +
         0.0625f * static_cast<float>(i) + 0.03125f * static_cast<float>(j);
}

/// Runs the step for thread (tr, tc) on accumulators that start at start_value; returns the worst
/// |got - want| / max(1, |want|) against acc + sum_k As[k][m] * Bs[k][n] in double (NaN if any is
/// NaN), and describes the first accumulator that is off by more than @p tolerance in @p first.
double check_thread(const Tiles& t, int tr, int tc, double tolerance, std::string& first) {
  float acc[TM][TN];
  for (int i = 0; i < TM; ++i)
    for (int j = 0; j < TN; ++j) acc[i][j] = start_value(tr, tc, i, j);
  ptt::ch04::register_tile_accumulate(tr, tc, t.As, t.Bs, acc);
  double worst = 0.0;
  for (int i = 0; i < TM; ++i)
    for (int j = 0; j < TN; ++j) {
      const int m = tr * TM + i, n = tc * TN + j;  // the accumulator's row and column in the block's tile
      double want = start_value(tr, tc, i, j);
      for (int k = 0; k < BK; ++k) want += static_cast<double>(t.As[k][m]) * t.Bs[k][n];
      const double err = std::abs(acc[i][j] - want) / std::max(1.0, std::abs(want));
      worst = ptt::test::max_or_nan(worst, err);
      if (!(err <= tolerance) && first.empty()) {
        std::ostringstream s;
        s << "thread (tr " << tr << ", tc " << tc << "), acc[" << i << "][" << j << "] = " << acc[i][j]
          << ", want " << want << " (started at " << start_value(tr, tc, i, j) << ")";
        first = s.str();
      }
    }
  return worst;
}

// ---- one call, every thread: the values, on full and edge tiles -------------------------------

/// How much of the tiles lies inside the matrices: rows of op(A) (columns m of As), columns of op(B)
/// (columns n of Bs) and k (rows of both). Past them the tiles hold 0, as the kernel's loads leave
/// them in a block at the edge of C or in the last k-tile.
using Extent = std::tuple<int, int, int>;
class RegisterTileAccumulate : public ::testing::TestWithParam<Extent> {};

TEST_P(RegisterTileAccumulate, EveryThreadAddsItsOuterProducts) {
  const auto [rows, cols, ks] = GetParam();
  const ptt::Matrix a = ptt::test::random_matrix(BK, BM, 21), b = ptt::test::random_matrix(BK, BN, 22);
  auto t = std::make_unique<Tiles>();
  for (int k = 0; k < BK; ++k) {
    for (int m = 0; m < BM; ++m) t->As[k][m] = k < ks && m < rows ? a(k, m) : 0.0f;
    for (int n = 0; n < BN; ++n) t->Bs[k][n] = k < ks && n < cols ? b(k, n) : 0.0f;
  }
  constexpr double kTolerance = 1e-5;
  double worst = 0.0;
  std::string first;
  for (int tr = 0; tr < kThreadRows; ++tr)
    for (int tc = 0; tc < kThreadCols; ++tc)
      worst = ptt::test::max_or_nan(worst, check_thread(*t, tr, tc, kTolerance, first));
  EXPECT_LT(worst, kTolerance) << "acc[i][j] must gain sum_k As[k][tr*TM + i] * Bs[k][tc*TN + j], added to "
                                  "its value before the call; the first wrong: "
                               << first;
}

std::string extent_name(const ::testing::TestParamInfo<Extent>& info) {
  const auto [rows, cols, ks] = info.param;
  return "rows" + std::to_string(rows) + "_cols" + std::to_string(cols) + "_k" + std::to_string(ks);
}

// A full tile; the tiles of a corner block of a 37 x 100 C in a last k-tile of 5 (37 = 4*8 + 5:
// thread row 4 straddles the edge); a 1 x 1 x 1 product (one thread has one nonzero term).
INSTANTIATE_TEST_SUITE_P(Edges, RegisterTileAccumulate,
                         ::testing::Values(Extent{BM, BN, BK}, Extent{37, 100, 5}, Extent{1, 1, 1}),
                         extent_name);

// ---- which elements a thread reads ------------------------------------------------------------

TEST(RegisterTileOwnership, ReadsOnlyItsRowsOfAAndColumnsOfB) {
  const ptt::Matrix a = ptt::test::random_matrix(BK, BM, 23), b = ptt::test::random_matrix(BK, BN, 24);
  constexpr double kTolerance = 1e-5;
  int wrong = 0;
  std::string first;
  for (const auto& [tr, tc] :
       {std::pair{0, 0}, std::pair{0, kThreadCols - 1}, std::pair{kThreadRows - 1, 0},
        std::pair{kThreadRows - 1, kThreadCols - 1}, std::pair{6, 9}, std::pair{9, 6}}) {
    auto t = std::make_unique<Tiles>();
    for (int k = 0; k < BK; ++k) {  // NaN everywhere but this thread's TM columns of As and TN of Bs
      for (int m = 0; m < BM; ++m) t->As[k][m] = m / TM == tr ? a(k, m) : kNaN;
      for (int n = 0; n < BN; ++n) t->Bs[k][n] = n / TN == tc ? b(k, n) : kNaN;
    }
    wrong += !(check_thread(*t, tr, tc, kTolerance, first) < kTolerance);  // NaN counts as wrong
  }
  EXPECT_EQ(wrong, 0)
      << "threads whose accumulators are wrong or NaN when every element of the tiles outside "
         "their own rows of As and columns of Bs is NaN; the first wrong: "
      << first;
}

// ---- the whole kernel v4, emulated block by block ----------------------------------------------

/// C = A B (row-major, packed: A [M, K], B [K, N]) as kernel v4 computes it: for each block, for
/// each k-tile, the tiles filled as the kernel's loads fill them (0 outside the matrices), the
/// step for all 256 threads (between the two barriers), then the store of the accumulators that
/// lie inside C. C is NaN where nothing was stored.
std::vector<float> emulate_blocked2d(const ptt::Matrix& A, const ptt::Matrix& B) {
  const int M = static_cast<int>(A.rows()), K = static_cast<int>(A.cols()), N = static_cast<int>(B.cols());
  std::vector<float> C(static_cast<std::size_t>(M) * static_cast<std::size_t>(N), kNaN);
  auto t = std::make_unique<Tiles>();
  std::vector<Accumulators> acc(static_cast<std::size_t>(kThreadRows * kThreadCols));
  const auto acc_of = [&](int tr, int tc) -> float(&)[TM][TN] {
    return acc[static_cast<std::size_t>(tr * kThreadCols + tc)].v;
  };
  for (int bm = 0; bm < M; bm += BM)
    for (int bn = 0; bn < N; bn += BN) {
      std::fill(acc.begin(), acc.end(), Accumulators{});  // the kernel's float acc[TM][TN] = {}
      for (int k0 = 0; k0 < K; k0 += BK) {
        for (int k = 0; k < BK; ++k) {
          for (int m = 0; m < BM; ++m) t->As[k][m] = bm + m < M && k0 + k < K ? A(bm + m, k0 + k) : 0.0f;
          for (int n = 0; n < BN; ++n) t->Bs[k][n] = k0 + k < K && bn + n < N ? B(k0 + k, bn + n) : 0.0f;
        }
        // __syncthreads()
        for (int tr = 0; tr < kThreadRows; ++tr)
          for (int tc = 0; tc < kThreadCols; ++tc)
            ptt::ch04::register_tile_accumulate(tr, tc, t->As, t->Bs, acc_of(tr, tc));
        // __syncthreads()
      }
      for (int tr = 0; tr < kThreadRows; ++tr)
        for (int tc = 0; tc < kThreadCols; ++tc)
          for (int i = 0; i < TM; ++i)
            for (int j = 0; j < TN; ++j) {
              const int row = bm + tr * TM + i, col = bn + tc * TN + j;
              if (row < M && col < N)
                C[static_cast<std::size_t>(row) * static_cast<std::size_t>(N) +
                  static_cast<std::size_t>(col)] = acc_of(tr, tc)[i][j];
            }
    }
  return C;
}

using Shape = std::tuple<int, int, int>;  // M, N, K
class RegisterTileGemm : public ::testing::TestWithParam<Shape> {};

TEST_P(RegisterTileGemm, MatchesCpuReference) {
  const auto [M, N, K] = GetParam();
  const ptt::Matrix A = ptt::test::random_matrix(M, K, 25), B = ptt::test::random_matrix(K, N, 26);
  std::vector<float> want(static_cast<std::size_t>(M) * static_cast<std::size_t>(N));
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0.0;
      for (int k = 0; k < K; ++k) s += static_cast<double>(A(i, k)) * B(k, j);
      want[static_cast<std::size_t>(i) * static_cast<std::size_t>(N) + static_cast<std::size_t>(j)] =
          static_cast<float>(s);
    }
  const double err = ptt::test::relative_error(emulate_blocked2d(A, B), want);
  EXPECT_LT(err, 1e-5) << M << "x" << N << "x" << K << ": max |C - R| / max |R| (NaN fails too)";
}

std::string shape_name(const ::testing::TestParamInfo<Shape>& info) {
  const auto [M, N, K] = info.param;
  return std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
}

// 150 x 133: four blocks, three of them overhanging C; K = 29: three full k-tiles and one of 5;
// K = 130: 17 k-tiles, the last of 2; one exact block; 1 x 1 x 1 (one k-tile of one).
INSTANTIATE_TEST_SUITE_P(Shapes, RegisterTileGemm,
                         ::testing::Values(Shape{150, 133, 29}, Shape{37, 53, 130}, Shape{128, 128, 16},
                                           Shape{1, 1, 1}),
                         shape_name);

}  // namespace
