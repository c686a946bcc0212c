// ptt/error.hpp — the project's one error-checking header.
//
// Two kinds of failure, two exit codes (README.md, "Every chapter takes the same flags"):
//   InputError  — the user's input is wrong (a flag, a file, a world size): exit code 2, one line.
//   std::exception of any other kind — a bug or an unexpected system failure: exit code 1.
// run_main() turns them into those exit codes so every chapter driver behaves the same.
#pragma once

#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>

namespace ptt {

/// Bad input or usage: the message names the file or option and what is wrong.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Training produced NaN or Inf (exit code 1): the message names the step and the layer.
class TrainingDiverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// @brief Throws InputError(message) unless @p condition holds.
inline void require_input(bool condition, const std::string& message) {
  if (!condition) throw InputError(message);
}

/// @brief Runs a chapter's body and maps failures to exit codes.
/// @param program name printed before every error line, e.g. "ch01_serial".
/// @param body    the driver; returns its own exit code.
/// @return body's code; 2 after an InputError; 1 after TrainingDiverged or any other exception.
int run_main(const std::string& program, const std::function<int()>& body);

}  // namespace ptt

/// Internal invariant check: a failure is a bug in this project (exit code 1), with file and line.
#define PTT_CHECK(cond, msg)                                                          \
  do {                                                                                \
    if (!(cond))                                                                      \
      throw std::logic_error(std::string(__FILE__) + ":" + std::to_string(__LINE__) + \
                             ": check failed: " #cond ": " + std::string(msg));       \
  } while (0)

/// Checks an MPI call (for code that includes <mpi.h>; the core itself does not use MPI).
/// MPI errors are unrecoverable for a job: print where and what, then abort EVERY rank, so that
/// no other rank is left waiting in a collective for this one. Requires MPI_ERRORS_RETURN on the
/// communicator (chapter 03 sets it), otherwise MPI aborts before this check can report.
#define PTT_MPI_CHECK(call)                                                                          \
  do {                                                                                               \
    const int ptt_mpi_rc_ = (call);                                                                  \
    if (ptt_mpi_rc_ != MPI_SUCCESS) {                                                                \
      char ptt_mpi_msg_[MPI_MAX_ERROR_STRING];                                                       \
      int ptt_mpi_len_ = 0;                                                                          \
      MPI_Error_string(ptt_mpi_rc_, ptt_mpi_msg_, &ptt_mpi_len_);                                    \
      std::fprintf(stderr, "%s:%d: %s failed: %s (aborting all ranks)\n", __FILE__, __LINE__, #call, \
                   ptt_mpi_msg_);                                                                    \
      MPI_Abort(MPI_COMM_WORLD, 1);                                                                  \
    }                                                                                                \
  } while (0)
