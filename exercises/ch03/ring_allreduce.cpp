// Chapter 03 exercise: the ring allreduce (see contracts/ch03/ring_allreduce.hpp for the
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
  // TODO(03.1): the reduce-scatter half of the ring (the README's "The ring allreduce").
  //   What it must do: on return, rank r holds in segment (r + 1) mod p of `data` (segments as
  //   ring_segment cuts them) the sum of that segment over all p ranks; the other segments may
  //   hold partial sums. It may talk only to its ring neighbours, ring.left and ring.right.
  //   Invariants to keep: in every step each rank passes exactly one segment on to the right and
  //   takes exactly one from the left, so each rank sends (p - 1) n / p floats in all; and the
  //   segment a rank adds what it receives into is the one it will pass on in the next step.
  //   Every rank is sending while its neighbour receives: a step whose send could wait for a
  //   receive that is posted only after it would deadlock. `incoming` holds one segment.
  //   Stuck? exercises/ch03/HINTS.md.
  (void)incoming;
}

void ring_all_gather(std::span<float> data, MPI_Comm comm) {
  const Ring ring(comm);
  const int p = ring.size;
  if (p == 1) return;
  const std::size_t n = data.size();
  // TODO(03.2): the all-gather half of the ring.
  //   What it must do: given that rank r holds the complete sum of segment (r + 1) mod p (what
  //   ring_reduce_scatter leaves), on return every rank holds every complete segment, bit for bit
  //   the same on all ranks (each sum is computed once, then only copied).
  //   Invariants to keep: in every step each rank passes on to the right a segment that is already
  //   complete, and what arrives from the left is complete too, so it needs no arithmetic and no
  //   scratch buffer. The same deadlock rule as in the reduce-scatter holds, and messages of this
  //   half must not be mistaken for the reduce-scatter's. Stuck? exercises/ch03/HINTS.md.
  (void)n;
}

}  // namespace ptt::ch03
