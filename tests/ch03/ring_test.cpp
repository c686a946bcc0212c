// Chapter 03: the ring allreduce equals MPI_Allreduce, for any length and any number of ranks.
// Meaningful with several ranks (CTest runs this binary under mpiexec -n 2, 3 and 4).
// Every rank runs the same collectives in the same order, so these tests use EXPECT, never
// ASSERT: an ASSERT failing on one rank only would return early and leave the others waiting.
#include <gtest/gtest.h>
#include <mpi.h>

#include <random>

#include "ch03/ring_allreduce.hpp"
#include "mpi_test_util.hpp"
#include "ptt/rng.hpp"

namespace ptt::ch03 {
namespace {

using test::world_rank;
using test::world_size;

// Small integers per rank: every sum is exact in float, so any correct order gives equal bits.
std::vector<float> integer_data(std::size_t n, int rank) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = float((i * 7 + std::size_t(rank) * 13) % 101) - 50.0f;
  return v;
}

std::vector<std::size_t> lengths() {
  const std::size_t p = std::size_t(world_size());
  return {0, 1, p - 1, p, p + 1, 1000003};  // including lengths that p does not divide, and n < p
}

TEST(RingAllreduce, EqualsMpiAllreduceForAnyLength) {
  for (std::size_t n : lengths()) {
    std::vector<float> ring = integer_data(n, world_rank()), mpi = ring;
    ring_allreduce(ring, MPI_COMM_WORLD);
    if (n > 0) MPI_Allreduce(MPI_IN_PLACE, mpi.data(), int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    EXPECT_EQ(ring, mpi) << "length " << n << " on " << world_size() << " ranks";
  }
}

TEST(RingAllreduce, RandomDataWithinRoundingAndSameBitsOnEveryRank) {
  const std::size_t n = 4099;
  auto rng = make_rng(5, RngPurpose::Test, std::uint64_t(world_rank()));
  std::normal_distribution<float> normal;
  std::vector<float> ring(n);
  for (float& v : ring) v = normal(rng);
  std::vector<float> mpi = ring;
  ring_allreduce(ring, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, mpi.data(), int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(ring[i], mpi[i], 1e-5f * (1.0f + std::abs(mpi[i])));
  // Every rank must hold the same bits: compare with rank 0's copy.
  std::vector<float> root = ring;
  MPI_Bcast(root.data(), int(n), MPI_FLOAT, 0, MPI_COMM_WORLD);
  EXPECT_EQ(ring, root);
}

// --- the two halves on their own (the exercise's TODO(03.1) and TODO(03.2)) -------------------

TEST(RingReduceScatter, EachRankEndsWithTheSumOfTheNextSegment) {
  const int p = world_size(), r = world_rank();
  for (std::size_t n : lengths()) {
    std::vector<float> data = integer_data(n, r), sum = data;
    if (n > 0) MPI_Allreduce(MPI_IN_PLACE, sum.data(), int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    ring_reduce_scatter(data, MPI_COMM_WORLD);
    const Range own = ring_segment(n, r + 1, p);
    // No ASSERT between collectives: a rank that returned early would leave the others waiting.
    std::size_t wrong = 0;
    for (std::size_t i = own.begin; i < own.end; ++i) wrong += data[i] != sum[i] ? 1 : 0;
    EXPECT_EQ(wrong, 0u) << "length " << n << ": elements of the own segment without the full sum";
    if (p > 1 && own.size() > 0) {
      EXPECT_NE(data, integer_data(n, r)) << "nothing was reduced";
    }
  }
}

TEST(RingAllGather, EveryRankEndsWithEverySegment) {
  const int p = world_size(), r = world_rank();
  for (std::size_t n : lengths()) {
    // Rank r starts with only its own complete segment (r + 1) mod p right; the rest is garbage.
    std::vector<float> expected(n), data(n, -1e9f);
    for (std::size_t i = 0; i < n; ++i) expected[i] = float(i % 1009);
    const Range own = ring_segment(n, r + 1, p);
    for (std::size_t i = own.begin; i < own.end; ++i) data[i] = expected[i];
    ring_all_gather(data, MPI_COMM_WORLD);
    EXPECT_EQ(data, expected) << "length " << n << " on " << p << " ranks";
  }
}

}  // namespace
}  // namespace ptt::ch03
