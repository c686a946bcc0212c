// Chapter 06, TODO(06.3): the row-parallel layer over a tp group (here the whole world, T ranks):
// every rank ends with the unsplit layer's output, bias and ReLU included, and the same bits.
#include "ch06/row_parallel.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <vector>

#include "grids.hpp"
#include "ptt/checksum.hpp"
#include "ptt/layers.hpp"
#include "test_util.hpp"

namespace ptt::ch06 {
namespace {

using testing::world_rank;
using testing::world_size;

void check(Eigen::Index rows, Eigen::Index in_per_rank, Eigen::Index out, bool relu) {
  const int T = world_size(), t = world_rank();
  const Eigen::Index in = in_per_rank * T;
  // The same full input, weights and bias on every rank (seeded alike); the bias is large enough
  // that adding it T times, or not at all, shows.
  const Matrix H = test::random_matrix(rows, in, 1);
  const Matrix B = test::random_matrix(out, in, 2);
  const Vector b = test::random_vector(out, 3) * 4.0f;
  Matrix want = H * B.transpose();
  want.rowwise() += b.transpose();
  if (relu) relu_forward(want);
  // My slice: input features [t * in/T, (t+1) * in/T) of H, and the same columns of B.
  const Matrix Ht = H.middleCols(t * in_per_rank, in_per_rank);
  std::vector<float> params(std::size_t(out * in_per_rank + out));
  const ParamLayout layout({int(in_per_rank), int(out)});
  auto view = linear_view(layout, std::span<float>(params), 0);
  view.W = B.middleCols(t * in_per_rank, in_per_rank);
  view.b = b;
  Matrix got;
  row_parallel_forward(Ht, linear_view(layout, std::span<const float>(params), 0), relu, got, MPI_COMM_WORLD);
  ASSERT_EQ(got.rows(), rows);
  ASSERT_EQ(got.cols(), out);
  EXPECT_LT(test::relative_error(std::span<const float>(got.data(), std::size_t(got.size())),
                                 std::span<const float>(want.data(), std::size_t(want.size()))),
            1e-5)
      << rows << "x" << in << " -> " << out << (relu ? " with ReLU" : "");
  // Every rank holds the same bits (they continue from the same activations).
  const std::uint32_t mine = param_crc32(std::span<const float>(got.data(), std::size_t(got.size())));
  std::vector<std::uint32_t> all(static_cast<std::size_t>(T));
  MPI_Allgather(&mine, 1, MPI_UINT32_T, all.data(), 1, MPI_UINT32_T, MPI_COMM_WORLD);
  for (int r = 0; r < T; ++r)
    EXPECT_EQ(all[std::size_t(r)], all[0]) << "rank " << r << " differs from rank 0";
}

TEST(RowParallel, EqualsTheUnsplitLayerWithItsBiasOnce) {
  check(7, 3, 5, false);
  check(16, 8, 10, false);
}

TEST(RowParallel, AppliesTheReluAfterTheSum) { check(9, 4, 6, true); }

}  // namespace
}  // namespace ptt::ch06
