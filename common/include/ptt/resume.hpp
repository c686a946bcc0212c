// ptt/resume.hpp — what every driver does for --checkpoint / --checkpoint-every / --resume, and
// the divergence guard.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "ptt/checkpoint.hpp"
#include "ptt/cli.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"

namespace ptt {

/// Where a run is: the epoch in progress, its next batch, the steps so far, the epoch's statistics.
struct Position {
  int epoch = 1;
  std::size_t next_batch = 0;
  long steps = 0;
  EpochStats stats;
};

/// The common flags a resumed run must share with the saved one (seed, batch size, epochs, lr,
/// schedule, momentum, max steps); chapters add their own.
nlohmann::json resume_config(const TrainConfig& cfg);

/// True when --max-steps is set and reached.
inline bool step_limit_reached(const TrainConfig& cfg, long steps) { return cfg.max_steps > 0 && steps >= cfg.max_steps; }

/// Saves and restores a run's state according to the common flags.
class Checkpointer {
 public:
  /// @param cfg        the flags (--checkpoint, --checkpoint-every, --resume).
  /// @param run_config the values a resumed run must share with the saved one (seed, batch size,
  ///                   and the chapter's own, e.g. threads in deterministic mode).
  /// @param writer     false on ranks that must not write (chapter 03: only rank 0 writes).
  Checkpointer(const TrainConfig& cfg, nlohmann::json run_config, bool writer = true);

  /// @brief With --resume: loads the checkpoint, checks it fits this run, and copies parameters
  /// and optimizer state into place. @return where to continue (the start without --resume).
  /// @throws InputError naming the file and what is wrong.
  Position restore(const ParamLayout& layout, std::span<float> params, Optimizer& optimizer);

  /// True when a checkpoint is due after @p steps steps (every --checkpoint-every steps).
  bool due(long steps) const { return enabled() && every_ > 0 && steps % every_ == 0; }
  bool enabled() const { return !path_.empty(); }

  /// Writes the state atomically (no-op on a non-writer or without --checkpoint).
  void save(const ParamLayout& layout, std::span<const float> params, Optimizer& optimizer, const Position& at);
  /// "FILE (step N)" of the last checkpoint written or read, or "none".
  std::string last() const;

 private:
  std::string path_, optimizer_name_;
  long every_ = 0;
  bool resume_ = false, writer_ = true;
  nlohmann::json run_config_;
  long last_step_ = -1;
};

/// @brief The divergence guard: throws TrainingDiverged naming @p step, @p epoch and the first
/// layer whose gradients hold NaN or Inf (or the loss), and the last good checkpoint.
void check_finite(float loss, const ParamLayout& layout, std::span<const float> grads, long step, int epoch,
                  const Checkpointer& checkpoints);

}  // namespace ptt
