// tests/ch03/mpi_test_util.hpp — this process's rank and the number of ranks in MPI_COMM_WORLD, for
// the chapter's tests that run under mpiexec (one definition for all of them: the sanitizer build
// compiles a target's test files as one unity file).
#pragma once

#include <mpi.h>

namespace ptt::test {

inline int rank_of() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

inline int world() {
  int p = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  return p;
}

}  // namespace ptt::test
