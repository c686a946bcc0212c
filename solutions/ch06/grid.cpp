// solutions/ch06/grid.cpp — TODO(06.1)'s solution: coordinates on the grid and one communicator
// per axis (contracts/ch06/grid.hpp).
#include "ch06/grid.hpp"

#include "ptt/error.hpp"

namespace ptt::ch06 {

//! [grid_coords]
Coords grid_coords(const Grid& grid, int rank) {
  PTT_CHECK(rank >= 0 && rank < grid.size(), "grid_coords: rank outside the grid");
  Coords c;
  int rest = rank;
  for (Axis axis : grid.order) {  // innermost digit first
    const int digit = rest % grid.extent(axis);
    rest /= grid.extent(axis);
    (axis == Axis::Dp ? c.dp : axis == Axis::Pp ? c.pp : c.tp) = digit;
  }
  return c;
}

int grid_rank(const Grid& grid, const Coords& coords) {
  int rank = 0;
  for (auto it = grid.order.rbegin(); it != grid.order.rend(); ++it)  // outermost digit first
    rank = rank * grid.extent(*it) + coords.along(*it);
  return rank;
}
//! [grid_coords]

//! [split_groups]
Groups split_groups(const Grid& grid, MPI_Comm world) {
  int rank = 0;
  PTT_MPI_CHECK(MPI_Comm_rank(world, &rank));
  const Coords me = grid_coords(grid, rank);
  // The colour names the group: the rank of the grid point with this axis's coordinate set to 0,
  // the same for exactly the ranks that share the other two coordinates. The key orders the group
  // by the coordinate along the axis.
  auto split = [&](Axis axis) {
    Coords origin = me;
    (axis == Axis::Dp ? origin.dp : axis == Axis::Pp ? origin.pp : origin.tp) = 0;
    MPI_Comm comm = MPI_COMM_NULL;
    PTT_MPI_CHECK(MPI_Comm_split(world, grid_rank(grid, origin), me.along(axis), &comm));
    return comm;
  };
  Groups g;
  g.dp = split(Axis::Dp);
  g.pp = split(Axis::Pp);
  g.tp = split(Axis::Tp);
  return g;
}
//! [split_groups]

}  // namespace ptt::ch06
