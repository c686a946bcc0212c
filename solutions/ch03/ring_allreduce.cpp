// Chapter 03 solution: the ring allreduce (see ring_allreduce.hpp for the algorithm).
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

//! [reduce_scatter]
void ring_reduce_scatter(std::span<float> data, MPI_Comm comm) {
  const Ring ring(comm);
  const int p = ring.size;
  if (p == 1) return;
  const std::size_t n = data.size();
  std::vector<float> incoming(n / static_cast<std::size_t>(p) + 1);
  for (int s = 0; s < p - 1; ++s) {
    const Range send = ring_segment(n, ring.rank - s, p);
    const Range recv = ring_segment(n, ring.rank - s - 1, p);
    PTT_MPI_CHECK(MPI_Sendrecv(data.data() + send.begin, static_cast<int>(send.size()), MPI_FLOAT, ring.right,
                               s, incoming.data(), static_cast<int>(recv.size()), MPI_FLOAT, ring.left, s,
                               comm, MPI_STATUS_IGNORE));
    float* mine = data.data() + recv.begin;
    for (std::size_t i = 0; i < recv.size(); ++i) mine[i] += incoming[i];
  }
}
//! [reduce_scatter]

void ring_all_gather(std::span<float> data, MPI_Comm comm) {
  const Ring ring(comm);
  const int p = ring.size;
  if (p == 1) return;
  const std::size_t n = data.size();
  for (int s = 0; s < p - 1; ++s) {
    const Range send = ring_segment(n, ring.rank + 1 - s, p);
    const Range recv = ring_segment(n, ring.rank - s, p);
    // The received segment is complete: it goes straight to its place in the buffer.
    PTT_MPI_CHECK(MPI_Sendrecv(data.data() + send.begin, static_cast<int>(send.size()), MPI_FLOAT, ring.right,
                               p + s, data.data() + recv.begin, static_cast<int>(recv.size()), MPI_FLOAT,
                               ring.left, p + s, comm, MPI_STATUS_IGNORE));
  }
}

}  // namespace ptt::ch03
