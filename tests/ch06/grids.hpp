// Chapter 06's tests: the world, and every grid that fits it.
#pragma once

#include <mpi.h>

#include <array>
#include <ostream>
#include <vector>

#include "ch06/grid.hpp"
#include "mpi_test_util.hpp"

namespace ptt::ch06 {
/// How GoogleTest prints coordinates in a failure: "(dp 1, pp 0, tp 1)".
inline void PrintTo(const Coords& c, std::ostream* os) {
  *os << "(dp " << c.dp << ", pp " << c.pp << ", tp " << c.tp << ")";
}
}  // namespace ptt::ch06

namespace ptt::ch06::testing {

using test::world_rank;
using test::world_size;

/// Every dp x pp x tp = n (default order).
inline std::vector<Grid> grids_of(int n) {
  std::vector<Grid> out;
  for (int dp = 1; dp <= n; ++dp)
    for (int pp = 1; dp * pp <= n; ++pp)
      if (n % (dp * pp) == 0) out.push_back(Grid{dp, pp, n / (dp * pp)});
  return out;
}

/// The six orders of the three axes.
inline std::vector<std::array<Axis, 3>> all_orders() {
  return {{Axis::Tp, Axis::Pp, Axis::Dp}, {Axis::Tp, Axis::Dp, Axis::Pp}, {Axis::Pp, Axis::Tp, Axis::Dp},
          {Axis::Pp, Axis::Dp, Axis::Tp}, {Axis::Dp, Axis::Tp, Axis::Pp}, {Axis::Dp, Axis::Pp, Axis::Tp}};
}

}  // namespace ptt::ch06::testing
