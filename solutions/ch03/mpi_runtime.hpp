// solutions/ch03/mpi_runtime.hpp — MPI for a whole program: start and stop, one line per bad
// input for the whole job, no rank left waiting for a dead one, and the check that every replica
// holds the same parameters. (The distributed step itself is in ch03/distributed.hpp.)
#pragma once

#include <mpi.h>

#include <functional>
#include <optional>
#include <span>
#include <string>

#include "ptt/train.hpp"

namespace ptt::ch03 {

/// MPI for one program: MPI_Init_thread in the constructor, MPI_Finalize in the destructor.
/// Errors on MPI_COMM_WORLD are returned (not fatal), so PTT_MPI_CHECK can say where they were.
class Mpi {
 public:
  Mpi(int* argc, char*** argv);
  ~Mpi();
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  int rank_ = 0, size_ = 1;
};

/// Thrown on every rank when the ranks agreed to stop with an exit code (the message, if any,
/// has been printed once already).
struct AgreedExit {
  int code;
};

/// @brief A collective checkpoint: each rank says whether its part so far went wrong. If any
/// rank reports an error, the lowest such rank prints "program: error: message" (one line for the
/// whole job) and every rank throws AgreedExit{code}. No rank is left waiting for another.
void agree(const std::optional<std::string>& error, const std::string& program, int code = 2);

/// @brief Runs a chapter-03 driver: AgreedExit becomes its exit code; TrainingDiverged (raised on
/// every rank at once: they all check the same allreduced gradient) is printed by rank 0 and
/// becomes exit code 1; any other exception is printed with the rank and aborts the whole job
/// (MPI_Abort), so that it can never hang.
int run_main_mpi(const std::string& program, const std::function<int()>& body);

/// The ranks of MPI_COMM_WORLD as the training loop's Team: rank 0 leads (prints, evaluates,
/// writes files); a bad input on any rank is reported once and stops every rank (agree()).
class MpiTeam final : public Team {
 public:
  explicit MpiTeam(std::string program);
  bool leader() const override { return rank_ == 0; }
  void agree(const std::optional<std::string>& error) override { ch03::agree(error, program_); }

 private:
  std::string program_;
  int rank_ = 0;
};

/// @brief Compares the parameter checksums (CRC-32) of all ranks; throws std::runtime_error
/// naming the ranks that differ from rank 0 (the caller aborts the job).
void check_replicas(std::span<const float> params, MPI_Comm comm);

}  // namespace ptt::ch03
