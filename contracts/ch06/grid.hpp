// contracts/ch06/grid.hpp — chapter 06's first contract (solutions/ch06/grid.cpp and
// exercises/ch06/grid.cpp implement it, TODO(06.1)): the process grid.
//
// The world's W = dp * pp * tp ranks are laid out on a three-dimensional grid. A rank's
// coordinates say which data-parallel replica it belongs to (dp), which pipeline stage of that
// replica it runs (pp) and which tensor-parallel slice of that stage it holds (tp).
//
// The grid is numbered like a mixed-radix number whose digits are the coordinates, listed in
// Grid::order from the innermost (fastest-varying) axis to the outermost. With the default order
// tp-pp-dp:
//
//     rank = tp + TP * (pp + PP * dp)        (TP, PP: the grid's extents)
//
// so the ranks of one tensor-parallel group are consecutive. Launchers fill a machine's slots
// with consecutive ranks, so the chattiest group (tp: two all-reduces per layer pair per
// micro-batch) stays inside a machine, as Megatron-LM lays it out. The order of the two outer
// axes decides which of dp and pp spans machines.
//
// Each axis has its own communicator: the ranks that share the other two coordinates, ranked by
// their coordinate along the axis. Every rank is in exactly one group per axis.
#pragma once

#include <mpi.h>

#include <array>
#include <string>

namespace ptt::ch06 {

/// One of the grid's three axes.
enum class Axis { Dp, Pp, Tp };

/// The grid: its extents, and the order of its axes from innermost to outermost.
struct Grid {
  int dp = 1;
  int pp = 1;
  int tp = 1;
  std::array<Axis, 3> order{Axis::Tp, Axis::Pp, Axis::Dp};  ///< innermost first
  int size() const { return dp * pp * tp; }
  /// The extent of @p axis (dp, pp or tp).
  int extent(Axis axis) const { return axis == Axis::Dp ? dp : axis == Axis::Pp ? pp : tp; }
};

/// A rank's place on the grid: 0 <= dp < Grid::dp, and so on.
struct Coords {
  int dp = 0;
  int pp = 0;
  int tp = 0;
  /// The coordinate along @p axis.
  int along(Axis axis) const { return axis == Axis::Dp ? dp : axis == Axis::Pp ? pp : tp; }
  bool operator==(const Coords&) const = default;
};

/// @brief The coordinates of @p rank (0 <= rank < grid.size()), by the mixed-radix numbering
/// above with grid.order's first axis varying fastest.
Coords grid_coords(const Grid& grid, int rank);

/// @brief The rank at @p coords: the inverse of grid_coords().
int grid_rank(const Grid& grid, const Coords& coords);

/// One communicator per axis. In `dp` are the ranks with this rank's pp and tp coordinates, and
/// a rank's rank in it is its dp coordinate; likewise for `pp` and `tp`.
struct Groups {
  MPI_Comm dp = MPI_COMM_NULL;
  MPI_Comm pp = MPI_COMM_NULL;
  MPI_Comm tp = MPI_COMM_NULL;
};

/// @brief Splits @p world (of grid.size() ranks) into the three groups: one MPI_Comm_split per
/// axis, with a colour that is the same exactly for the ranks sharing the other two coordinates
/// and the key that makes the rank in the group equal to the coordinate along the axis.
/// Collective over @p world. The caller frees the communicators (free_groups()).
Groups split_groups(const Grid& grid, MPI_Comm world);

/// Frees what split_groups() created.
inline void free_groups(Groups& groups) {
  for (MPI_Comm* c : {&groups.dp, &groups.pp, &groups.tp})
    if (*c != MPI_COMM_NULL) MPI_Comm_free(c);
}

/// "dp", "pp" or "tp".
inline std::string axis_name(Axis axis) { return axis == Axis::Dp ? "dp" : axis == Axis::Pp ? "pp" : "tp"; }

}  // namespace ptt::ch06
