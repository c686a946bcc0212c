// Chapter 06, TODO(06.1): the grid's numbering and its three groups. Every rank of every grid of
// the world's size checks its own groups, so a run under `mpiexec -n 4` covers all 4-rank grids.
#include "ch06/grid.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <set>
#include <tuple>
#include <vector>

#include "grids.hpp"

namespace ptt::ch06 {
namespace {

using testing::all_orders;
using testing::grids_of;
using testing::world_rank;
using testing::world_size;

TEST(Grid, DefaultOrderPutsTensorParallelRanksNextToEachOther) {
  // tp innermost, then pp, then dp: rank = tp + TP * (pp + PP * dp).
  const Grid g{2, 2, 2};
  EXPECT_EQ(grid_coords(g, 0), (Coords{0, 0, 0}));
  EXPECT_EQ(grid_coords(g, 1), (Coords{0, 0, 1}));
  EXPECT_EQ(grid_coords(g, 2), (Coords{0, 1, 0}));
  EXPECT_EQ(grid_coords(g, 3), (Coords{0, 1, 1}));
  EXPECT_EQ(grid_coords(g, 4), (Coords{1, 0, 0}));
  EXPECT_EQ(grid_coords(g, 7), (Coords{1, 1, 1}));
  const Grid h{3, 2, 4};  // unequal extents catch a radix taken from the wrong axis
  EXPECT_EQ(grid_coords(h, 5), (Coords{0, 1, 1}));
  EXPECT_EQ(grid_coords(h, 9), (Coords{1, 0, 1}));
  EXPECT_EQ(grid_coords(h, 23), (Coords{2, 1, 3}));
  EXPECT_EQ(grid_rank(h, Coords{2, 0, 3}), 19);
}

TEST(Grid, OtherOrdersNumberTheirInnermostAxisFastest) {
  Grid g{3, 2, 4};
  g.order = {Axis::Tp, Axis::Dp, Axis::Pp};  // rank = tp + TP * (dp + DP * pp)
  EXPECT_EQ(grid_coords(g, 5), (Coords{1, 0, 1}));
  EXPECT_EQ(grid_coords(g, 13), (Coords{0, 1, 1}));
  g.order = {Axis::Dp, Axis::Pp, Axis::Tp};  // rank = dp + DP * (pp + PP * tp)
  EXPECT_EQ(grid_coords(g, 1), (Coords{1, 0, 0}));
  EXPECT_EQ(grid_coords(g, 3), (Coords{0, 1, 0}));
  EXPECT_EQ(grid_coords(g, 6), (Coords{0, 0, 1}));
  EXPECT_EQ(grid_rank(g, Coords{2, 1, 3}), 2 + 3 * (1 + 2 * 3));
}

TEST(Grid, CoordinatesAreABijectionForEveryOrder) {
  for (const Grid& base : {Grid{1, 1, 1}, Grid{2, 3, 4}, Grid{4, 1, 2}, Grid{1, 5, 1}})
    for (const auto& order : all_orders()) {
      Grid g = base;
      g.order = order;
      std::set<std::tuple<int, int, int>> seen;
      for (int r = 0; r < g.size(); ++r) {
        const Coords c = grid_coords(g, r);
        EXPECT_TRUE(c.dp >= 0 && c.dp < g.dp && c.pp >= 0 && c.pp < g.pp && c.tp >= 0 && c.tp < g.tp)
            << "rank " << r << " outside the grid";
        seen.insert({c.dp, c.pp, c.tp});
        EXPECT_EQ(grid_rank(g, c), r) << "grid_rank does not invert grid_coords for rank " << r;
      }
      EXPECT_EQ(seen.size(), std::size_t(g.size())) << "two ranks share coordinates";
    }
}

// Each axis's group: its size is the extent, my rank in it is my coordinate, and its members are
// exactly the ranks that share my other two coordinates.
TEST(GridGroups, EachAxisGroupsTheRanksThatShareTheOtherCoordinates) {
  const int n = world_size(), me = world_rank();
  for (Grid g : grids_of(n))
    for (const auto& order : all_orders()) {
      g.order = order;
      Groups groups = split_groups(g, MPI_COMM_WORLD);
      const Coords mine = grid_coords(g, me);
      for (Axis axis : {Axis::Dp, Axis::Pp, Axis::Tp}) {
        MPI_Comm comm = axis == Axis::Dp ? groups.dp : axis == Axis::Pp ? groups.pp : groups.tp;
        int size = 0, rank = -1;
        MPI_Comm_size(comm, &size);
        MPI_Comm_rank(comm, &rank);
        EXPECT_EQ(size, g.extent(axis))
            << axis_name(axis) << " group size, grid " << g.dp << "x" << g.pp << "x" << g.tp;
        EXPECT_EQ(rank, mine.along(axis)) << axis_name(axis) << " group rank of world rank " << me;
        std::vector<int> members(std::size_t(std::max(size, 0)));
        MPI_Allgather(&me, 1, MPI_INT, members.data(), 1, MPI_INT, comm);
        for (int k = 0; k < size; ++k) {
          const Coords c = grid_coords(g, members[std::size_t(k)]);
          EXPECT_EQ(c.along(axis), k)
              << axis_name(axis) << " group member " << k << " has the wrong coordinate";
          for (Axis other : {Axis::Dp, Axis::Pp, Axis::Tp}) {
            if (other == axis) continue;
            EXPECT_EQ(c.along(other), mine.along(other))
                << axis_name(axis) << " group holds a rank with another " << axis_name(other)
                << " coordinate";
          }
        }
      }
      free_groups(groups);
    }
}

}  // namespace
}  // namespace ptt::ch06
