// tests/common/mpi_test_util.hpp — this process's rank and the number of ranks in MPI_COMM_WORLD,
// for the tests that run under mpiexec (chapters 03, 06 and 07). Only MPI test targets include it.
#pragma once

#include <mpi.h>

namespace ptt::test {

inline int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

inline int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

}  // namespace ptt::test
