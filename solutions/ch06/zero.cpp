// solutions/ch06/zero.cpp — TODO(06.2)'s solution: one ZeRO-1 step (contracts/ch06/zero.hpp).
#include "ch06/zero.hpp"

#include <vector>

#include "ptt/error.hpp"

namespace ptt::ch06 {

namespace {
// Every rank's shard as MPI counts and displacements (ints: MPI's counts are int).
void shard_counts(std::size_t n, int ranks, std::vector<int>& counts, std::vector<int>& displs) {
  counts.resize(static_cast<std::size_t>(ranks));
  displs.resize(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    const Range s = zero_shard(n, r, ranks);
    counts[static_cast<std::size_t>(r)] = static_cast<int>(s.size());
    displs[static_cast<std::size_t>(r)] = static_cast<int>(s.begin);
  }
}
}  // namespace

//! [zero1_step]
void zero1_step(std::span<float> params, std::span<float> grads, std::span<float> shard_grads,
                Optimizer& shard_optimizer, MPI_Comm dp) {
  int rank = 0, ranks = 1;
  PTT_MPI_CHECK(MPI_Comm_rank(dp, &rank));
  PTT_MPI_CHECK(MPI_Comm_size(dp, &ranks));
  PTT_CHECK(grads.size() == params.size(), "zero1_step: gradients and parameters differ in length");
  const Range mine = zero_shard(params.size(), rank, ranks);
  PTT_CHECK(shard_grads.size() == mine.size(), "zero1_step: the shard buffer is not this rank's shard");
  std::vector<int> counts, displs;
  shard_counts(params.size(), ranks, counts, displs);
  // 1. reduce-scatter: shard r of the summed gradient lands on rank r.
  PTT_MPI_CHECK(MPI_Reduce_scatter(grads.data(), shard_grads.data(), counts.data(), MPI_FLOAT, MPI_SUM, dp));
  // 2. this rank updates its shard only, with the optimizer state of its shard only.
  shard_optimizer.step(params.subspan(mine.begin, mine.size()), shard_grads);
  // 3. all-gather: every rank's updated shard to every rank (in place: mine is already there).
  PTT_MPI_CHECK(
      MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, params.data(), counts.data(), displs.data(), MPI_FLOAT, dp));
}
//! [zero1_step]

}  // namespace ptt::ch06
