// Chapter 04's tiled GEMM (kernel v3), tested WITHOUT a GPU: the per-thread phases of
// contracts/ch04/smem_tile.hpp run here exactly as the kernel runs them (the same functions: their
// host versions, emitted by nvcc from 3_smem.cu), and a "block emulator" reproduces
// __syncthreads: phase 1 for every thread of a block, then phase 2 for every thread, per k-tile.
// Built against the solution (ch04_tests: solutions/ch04/gemm/3_smem.cu) and the exercise
// (ch04_tests_exercise: exercises/ch04/3_smem.cu), where TODO(04.1) and TODO(04.2) make these
// tests fail until they are written.
//
// Error measure: max_i |C_i - R_i| / max_i |R_i| (test_util.hpp) against a double-accumulated
// reference; FP32 sums of at most a few hundred terms stay far below the 1e-5 allowed.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "ch04/gemm.hpp"
#include "ch04/smem_tile.hpp"
#include "test_util.hpp"

namespace {

using ptt::ch04::GemmProblem;
using ptt::ch04::kTile;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// Runs kernel v3 on the CPU: every block, every k-tile, phase 1 for all threads, then phase 2.
void emulate_smem_gemm(const GemmProblem& p) {
  float As[kTile][kTile], Bs[kTile][kTile], acc[kTile][kTile];
  for (int by = 0; by * kTile < p.M; ++by)
    for (int bx = 0; bx * kTile < p.N; ++bx) {
      for (auto& row : acc)
        for (float& a : row) a = 0.0f;
      for (int k0 = 0; k0 < p.K; k0 += kTile) {
        for (int i = 0; i < kTile; ++i)  // poison: a tile element nobody loads shows up as NaN
          for (int j = 0; j < kTile; ++j) As[i][j] = Bs[i][j] = kNaN;
        for (int ty = 0; ty < kTile; ++ty)
          for (int tx = 0; tx < kTile; ++tx) ptt::ch04::smem_load_tiles(p, by, bx, k0, tx, ty, As, Bs);
        // __syncthreads()
        for (int ty = 0; ty < kTile; ++ty)
          for (int tx = 0; tx < kTile; ++tx)
            acc[ty][tx] = ptt::ch04::smem_accumulate(tx, ty, As, Bs, acc[ty][tx]);
        // __syncthreads()
      }
      for (int ty = 0; ty < kTile; ++ty)
        for (int tx = 0; tx < kTile; ++tx) ptt::ch04::smem_store(p, by, bx, tx, ty, acc[ty][tx]);
    }
}

/// Storage for op(A) [M, K] and op(B) [K, N] in the requested layouts, random N(0, 1) values.
struct Operands {
  ptt::Matrix a, b;  // storage: [M, K] or [K, M] (transposed); [K, N] or [N, K]
  GemmProblem problem(int M, int N, int K, bool ta, bool tb, float* C) const {
    return {M, N, K, {a.data(), static_cast<int>(a.cols()), ta}, {b.data(), static_cast<int>(b.cols()), tb},
            C, N};
  }
};
Operands make_operands(int M, int N, int K, bool ta, bool tb) {
  return {ta ? ptt::test::random_matrix(K, M, 1) : ptt::test::random_matrix(M, K, 1),
          tb ? ptt::test::random_matrix(N, K, 2) : ptt::test::random_matrix(K, N, 2)};
}

// ---- phase 1 alone (TODO 04.1) ----------------------------------------------------------------

class SmemTileLoad : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(SmemTileLoad, FillsBothTilesWithZeroOutsideTheMatrices) {
  const auto [ta, tb] = GetParam();
  const int M = 40, N = 45, K = 50;  // the block (1, 1) at k0 = 32 overhangs every edge
  const Operands ops = make_operands(M, N, K, ta, tb);
  const GemmProblem p = ops.problem(M, N, K, ta, tb, nullptr);
  float As[kTile][kTile], Bs[kTile][kTile];
  for (int i = 0; i < kTile; ++i)
    for (int j = 0; j < kTile; ++j) As[i][j] = Bs[i][j] = kNaN;
  const int by = 1, bx = 1, k0 = 32;
  for (int ty = 0; ty < kTile; ++ty)
    for (int tx = 0; tx < kTile; ++tx) ptt::ch04::smem_load_tiles(p, by, bx, k0, tx, ty, As, Bs);
  int wrong = 0;
  for (int i = 0; i < kTile; ++i)
    for (int j = 0; j < kTile; ++j) {
      const int row = by * kTile + i, acol = k0 + j, brow = k0 + i, col = bx * kTile + j;
      const float a = row < M && acol < K ? p.A.at(row, acol) : 0.0f;
      const float b = brow < K && col < N ? p.B.at(brow, col) : 0.0f;
      wrong += !(As[i][j] == a) + !(Bs[i][j] == b);  // NaN (never loaded) counts as wrong
    }
  EXPECT_EQ(wrong, 0) << "tile elements not as op(A)[row, k0 + tx] / op(B)[k0 + ty, col] (0 outside)";
}

INSTANTIATE_TEST_SUITE_P(Layouts, SmemTileLoad, ::testing::Combine(::testing::Bool(), ::testing::Bool()));

// ---- phase 2 alone (TODO 04.2) ----------------------------------------------------------------

TEST(SmemTileAccumulate, AddsRowOfATimesColumnOfB) {
  const ptt::Matrix a = ptt::test::random_matrix(kTile, kTile, 3),
                    b = ptt::test::random_matrix(kTile, kTile, 4);
  float As[kTile][kTile], Bs[kTile][kTile];
  for (int i = 0; i < kTile; ++i)
    for (int j = 0; j < kTile; ++j) As[i][j] = a(i, j), Bs[i][j] = b(i, j);
  double worst = 0.0;
  for (int ty = 0; ty < kTile; ++ty)
    for (int tx = 0; tx < kTile; ++tx) {
      const float start = 0.5f;  // what earlier k-tiles left in the accumulator
      double want = start;
      for (int k = 0; k < kTile; ++k) want += static_cast<double>(As[ty][k]) * Bs[k][tx];
      const float got = ptt::ch04::smem_accumulate(tx, ty, As, Bs, start);
      worst = ptt::test::max_or_nan(worst, std::abs(got - want) / std::max(1.0, std::abs(want)));
    }
  EXPECT_LT(worst, 1e-5) << "acc + sum_k As[ty][k] * Bs[k][tx], relative to max(1, |result|)";
}

// ---- the whole kernel, emulated (both TODOs) -------------------------------------------------

using Shape = std::tuple<int, int, int, bool, bool>;  // M, N, K, transposed A, transposed B
class SmemGemmEmulated : public ::testing::TestWithParam<Shape> {};

TEST_P(SmemGemmEmulated, MatchesCpuReference) {
  const auto [M, N, K, ta, tb] = GetParam();
  const Operands ops = make_operands(M, N, K, ta, tb);
  std::vector<float> got(static_cast<std::size_t>(M) * N, kNaN), want(got.size());
  emulate_smem_gemm(ops.problem(M, N, K, ta, tb, got.data()));
  ptt::ch04::gemm_reference(ops.problem(M, N, K, ta, tb, want.data()));
  const double err = ptt::test::relative_error(got, want);
  EXPECT_LT(err, 1e-5) << M << "x" << N << "x" << K << " transA=" << ta << " transB=" << tb;  // NaN fails too
}

std::string shape_name(const ::testing::TestParamInfo<Shape>& info) {
  const auto [M, N, K, ta, tb] = info.param;
  return std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K) + (ta ? "_At" : "_A") +
         (tb ? "_Bt" : "_B");
}

// Odd shapes (no multiple of the tile), a single element, exact tiles, and the MLP's products for
// a 784-256-128-10 net at batch 128: forward X W^T (B transposed), dW = dY^T X (A transposed),
// dX = dY W, with the 10-wide logits layer.
INSTANTIATE_TEST_SUITE_P(Shapes, SmemGemmEmulated,
                         ::testing::Values(Shape{37, 53, 29, false, false}, Shape{37, 53, 29, true, false},
                                           Shape{37, 53, 29, false, true}, Shape{37, 53, 29, true, true},
                                           Shape{1, 1, 1, false, false}, Shape{64, 64, 64, false, false},
                                           Shape{128, 10, 128, false, true}, Shape{10, 128, 128, true, false},
                                           Shape{128, 128, 10, false, false},
                                           Shape{1000, 777, 333, false, false}),
                         shape_name);

}  // namespace
