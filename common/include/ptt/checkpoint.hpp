// ptt/checkpoint.hpp — training checkpoints that lose nothing.
//
// A checkpoint holds everything a run needs to continue as if it had never stopped: the
// parameters, the optimizer's state, where in the data the run is (epoch, next batch, steps), the
// epoch's running statistics, and the configuration. The batch order needs no saved RNG state: it
// is a pure function of (seed, epoch) (ptt::BatchSampler).
//
// File format (little-endian), version 1:
//   "PTTCKPT\0"  | uint32 version | uint32 header bytes | header (JSON) |
//   float32 params[header.params] | float32 optimizer_state[header.optimizer_state] |
//   uint32 CRC-32 (zlib) of everything before it
// Written atomically: to FILE.tmp, fsync, rename over FILE, fsync the directory. A run killed at
// any moment leaves either the previous checkpoint or the new one, never a mixture.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptt/metrics.hpp"

namespace ptt {

inline constexpr std::uint32_t kCheckpointVersion = 1;

struct TrainingState {
  std::vector<int> sizes;              ///< the network's layer sizes
  std::string optimizer;               ///< "sgd" or "adam"
  long optimizer_steps = 0;            ///< updates the optimizer has made (Adam's t)
  std::vector<float> params;           ///< the parameter buffer
  std::vector<float> optimizer_state;  ///< Optimizer::state()
  int epoch = 1;                       ///< the epoch in progress (1-based)
  std::size_t next_batch = 0;          ///< the next batch of that epoch
  long steps = 0;                      ///< optimizer steps so far
  EpochStats epoch_stats;              ///< the running statistics of the epoch in progress
  nlohmann::json config;               ///< the run's flags (seed, batch size, ...)
};

/// @brief Writes @p state to @p path atomically (see the file comment).
/// @throws InputError "--checkpoint PATH: ..." when the file cannot be written.
void save_checkpoint(const std::string& path, const TrainingState& state);

/// @brief Reads and validates a checkpoint: magic, version, size, checksum, header fields.
/// @throws InputError naming the file and what is wrong (truncated, corrupted, unknown version...).
TrainingState load_checkpoint(const std::string& path);

/// @brief Refuses to resume @p state into a run with other @p sizes, optimizer or config values
/// that change the result (seed, batch size, ...). @throws InputError naming the difference.
void check_resumable(const TrainingState& state, const std::vector<int>& sizes, const std::string& optimizer,
                     const nlohmann::json& config);

}  // namespace ptt
