// Chapter 03: MPI for a whole program (see mpi_runtime.hpp).
#include "ch03/mpi_runtime.hpp"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "ptt/checksum.hpp"
#include "ptt/error.hpp"

// Under AddressSanitizer (the asan preset): OpenMPI keeps memory it allocated until the process
// ends (its components are unloaded at MPI_Finalize without freeing everything), which
// LeakSanitizer would report as leaks of ours. Every MPI program links this file, so leak checking
// is off for them; every other AddressSanitizer check stays on. Without ASan this is never called.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }

namespace ptt::ch03 {

Mpi::Mpi(int* argc, char*** argv) {
  int provided = 0;
  // FUNNELED: OpenMP threads inside a rank compute; only the main thread calls MPI.
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  PTT_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  PTT_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
}

Mpi::~Mpi() { MPI_Finalize(); }

void agree(const std::optional<std::string>& error, const std::string& program, int code) {
  int rank = 0, size = 1;
  PTT_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  PTT_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
  const int mine = error ? rank : size;
  int first = size;
  PTT_MPI_CHECK(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (first == size) return;
  if (rank == first) {
    if (size > 1)
      std::fprintf(stderr, "%s: error (rank %d): %s\n", program.c_str(), rank, error->c_str());
    else
      std::fprintf(stderr, "%s: error: %s\n", program.c_str(), error->c_str());
  }
  throw AgreedExit{code};
}

int run_main_mpi(const std::string& program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const AgreedExit& e) {
    return e.code;
  } catch (const TrainingDiverged& e) {  // every rank at once: the same gradient, the same check
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) std::fprintf(stderr, "%s: error: %s\n", program.c_str(), e.what());
    return 1;
  } catch (const InputError& e) {  // one rank alone: the others may be inside a collective
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    std::fprintf(stderr, "%s: error (rank %d): %s\n", program.c_str(), rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 2);
  } catch (const std::exception& e) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    std::fprintf(stderr, "%s: internal error (rank %d): %s\n", program.c_str(), rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 1;
}

MpiTeam::MpiTeam(std::string program) : program_(std::move(program)) {
  PTT_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
}

void check_replicas(std::span<const float> params, MPI_Comm comm) {
  int rank = 0, size = 1;
  PTT_MPI_CHECK(MPI_Comm_rank(comm, &rank));
  PTT_MPI_CHECK(MPI_Comm_size(comm, &size));
  const std::uint32_t mine = param_crc32(params);
  std::vector<std::uint32_t> all(static_cast<std::size_t>(size));
  PTT_MPI_CHECK(MPI_Allgather(&mine, 1, MPI_UINT32_T, all.data(), 1, MPI_UINT32_T, comm));
  std::string differ;
  for (int r = 1; r < size; ++r)
    if (all[static_cast<std::size_t>(r)] != all[0]) differ.append(" ").append(std::to_string(r));
  if (!differ.empty())
    throw std::runtime_error("replicas diverged: the parameters of rank(s)" + differ +
                             " differ from rank 0's");
}

}  // namespace ptt::ch03
