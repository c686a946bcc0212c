// solutions/ch08/machine.hpp — the machines the planner knows: shipped profiles (each value with
// its source) and machine.json files, read and written with nlohmann-json.
//
// machine.json (every rate positive; "sources" optional, one string per field):
//   {
//     "name": "h100-cluster",
//     "flops_fp32": 6.7e13,            GEMM FLOP/s of one worker in fp32
//     "flops_mixed": 9.89e14,          ... in 16-bit (mixed precision)
//     "memory_bandwidth": 3.35e12,     bytes/s of one worker's memory
//     "intra_node": {"alpha_s": 3e-6, "beta_s_per_byte": 2.2e-12},   a message of b bytes: alpha + b beta
//     "inter_node": {"alpha_s": 5e-6, "beta_s_per_byte": 2e-11},
//     "workers_per_node": 8,
//     "memory_bytes": 8e10,            one worker's memory
//     "cores_per_node": 0,             0: no contention; else time x max(1, busy workers / cores)
//     "thread_link": {"alpha_s": 1e-6, "beta_s_per_byte": 5e-11},   optional: between threads of one
//                                      process (ch08_calibrate: a barrier's latency, 1 / memory_bandwidth)
//     "oversubscribed_link": {...},    optional: inside a node with more workers than cores
//                                      (ch08_calibrate --links: an all-reduce on more ranks than cores)
//     "gemm_fp32": [                   optional (ch08_calibrate writes it): GEMM FLOP/s of one worker
//       {"rows": 8, "forward_1_thread": 1.1e10, "backward_1_thread": 9e9,     at each row count,
//        "forward_all_cores": 1e10, "backward_all_cores": 8e9}, ...],       rows increasing
//     "sources": {"flops_fp32": "NVIDIA H100 datasheet", ...}
//   }
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ch08/cost_model.hpp"

namespace ptt::ch08 {

/// @brief The names of the shipped profiles.
std::vector<std::string> machine_profiles();

/// @brief The shipped profile @p name. @throws InputError naming the profiles when there is none.
Machine builtin_machine(const std::string& name);

/// @brief @p machine as machine.json's object.
nlohmann::json machine_to_json(const Machine& machine);

/// @brief A machine from machine.json's object. @param where names the source in errors (a file).
/// @throws InputError "WHERE: field 'F' ..." for a missing, mistyped or non-positive field.
Machine machine_from_json(const nlohmann::json& j, const std::string& where);

/// @brief Reads machine.json from @p path. @throws InputError naming the file (and the field).
Machine load_machine(const std::string& path);

/// @brief Writes @p machine to @p path as machine.json. @throws InputError when it cannot.
void save_machine(const Machine& machine, const std::string& path);

/// @brief A profile name, or a path to a machine.json (anything ending in .json).
Machine resolve_machine(const std::string& name_or_path);

/// One measured all-reduce: @p bytes summed over the ranks in @p seconds (chapter 03's
/// ch03_allreduce_bench, its MPI_Allreduce column).
struct AllreduceSample {
  double bytes = 0;
  double seconds = 0;
};

/// @brief The link whose ring all-reduce best matches measured all-reduces on @p ranks ranks:
/// alpha and beta of T(N) = 2 (p-1) alpha + 2 (p-1)/p N beta (step_time.hpp's ring), fitted by least
/// squares of the relative error (T(N) / measured - 1), so a 4 KB all-reduce weighs as much as a
/// 16 MB one. Calibrating on the all-reduce itself, not on a ping-pong, is what the model then
/// predicts: MPI's all-reduce does not run at a ping-pong's bandwidth (chapter 03's table).
/// @throws InputError when there are fewer than two sizes, a size or time is not positive, or the
/// fit gives a non-positive alpha or beta (the times do not grow with the size as a link's do).
Link fit_allreduce_link(const std::vector<AllreduceSample>& samples, int ranks);

/// @brief @p machine for a program whose workers are threads of one process (chapters 02 and 05):
/// the link inside a node becomes its thread_link (a sum or a hand-over in shared memory, not an
/// MPI message). @throws InputError when the machine has no thread_link.
Machine with_thread_workers(Machine machine);

}  // namespace ptt::ch08
