// exercises/ch06/grid.cpp — TODO(06.1): coordinates on the grid and one communicator per axis.
// The contract, with the numbering and the groups explained, is contracts/ch06/grid.hpp;
// exercises/ch06/HINTS.md has hints in three levels. Test: ./tutorial check 06
#include "ch06/grid.hpp"

#include "ptt/error.hpp"

namespace ptt::ch06 {

// TODO(06.1): the coordinates of `rank`. The grid numbers its ranks like a mixed-radix number
// whose digits are the three coordinates, grid.order listing the axes from the fastest-varying
// digit to the slowest. Every rank in [0, grid.size()) must get different coordinates, each
// inside its axis's extent, and grid_rank() below must undo what this does.
Coords grid_coords(const Grid& grid, int rank) {
  (void)grid;
  (void)rank;
  return {};
}

// TODO(06.1): the rank at `coords`, the inverse of grid_coords().
int grid_rank(const Grid& grid, const Coords& coords) {
  (void)grid;
  (void)coords;
  return 0;
}

// TODO(06.1): one MPI_Comm_split of `world` per axis. Two ranks must land in the same group of
// an axis exactly when their other two coordinates agree, and a rank's rank inside the group must
// be its coordinate along that axis (the pipeline sends to "stage + 1" by group rank, and ZeRO
// picks a shard by it).
Groups split_groups(const Grid& grid, MPI_Comm world) {
  (void)grid;
  Groups g;
  PTT_MPI_CHECK(MPI_Comm_dup(world, &g.dp));
  PTT_MPI_CHECK(MPI_Comm_dup(world, &g.pp));
  PTT_MPI_CHECK(MPI_Comm_dup(world, &g.tp));
  return g;
}

}  // namespace ptt::ch06
