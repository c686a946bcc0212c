// Chapter 03 exercise: the ring allreduce (see solutions/ch03/ring_allreduce.hpp for the
// algorithm and chapters/03_mpi_data_parallel/README.md for the figures).
// Fill in TODO(03.1) and TODO(03.2). Check your work with:  ./tutorial check 03
// (the tests run on 3 ranks: with one rank there is nothing to reduce).
#include "ch03/ring_allreduce.hpp"

#include <algorithm>
#include <vector>

#include "ptt/error.hpp"

namespace ptt::ch03 {

namespace {
struct Ring {
  int rank = 0, size = 1, left = 0, right = 0;
  explicit Ring(MPI_Comm comm) {
    PTT_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    PTT_MPI_CHECK(MPI_Comm_size(comm, &size));
    left = (rank - 1 + size) % size;
    right = (rank + 1) % size;
  }
};
}  // namespace

void ring_reduce_scatter(std::span<float> data, MPI_Comm comm) {
  const Ring ring(comm);
  const int p = ring.size;
  if (p == 1) return;
  const std::size_t n = data.size();
  std::vector<float> incoming(n / static_cast<std::size_t>(p) + 1);
  // TODO(03.1): p - 1 steps. In step s:
  //   send segment ring_segment(n, rank - s, p) to ring.right,
  //   receive segment ring_segment(n, rank - s - 1, p) from ring.left into `incoming`
  //   (one MPI_Sendrecv, so that no rank waits for a send that nobody receives),
  //   then add `incoming` into that segment of `data`.
  (void)incoming;
}

void ring_all_gather(std::span<float> data, MPI_Comm comm) {
  const Ring ring(comm);
  const int p = ring.size;
  if (p == 1) return;
  const std::size_t n = data.size();
  // TODO(03.2): p - 1 steps. In step s:
  //   send the complete segment ring_segment(n, rank + 1 - s, p) to ring.right,
  //   receive segment ring_segment(n, rank - s, p) from ring.left straight into its place in `data`.
  //   Use tags different from the reduce-scatter's (e.g. p + s).
  (void)n;
}

}  // namespace ptt::ch03
