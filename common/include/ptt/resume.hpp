// ptt/resume.hpp — --checkpoint / --checkpoint-every / --resume, and the divergence guard, on the
// model's state seen as spans (StateView): the parameter buffer, the optimizer-state buffer and the
// update count, wherever a chapter really keeps them (threads' shards, other ranks, a GPU).
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "ptt/checkpoint.hpp"
#include "ptt/mlp.hpp"
#include "ptt/train_config.hpp"

namespace ptt {

/// The model's state in chapter 01's layout, seen through spans: what evaluation, checkpoints and
/// the final checksum read.
struct StateView {
  std::span<float> params;           ///< the flat parameter buffer (ptt::ParamLayout)
  std::span<float> optimizer_state;  ///< Optimizer::state()'s layout: k arrays of params.size() floats
  long optimizer_steps = 0;          ///< updates made so far (Adam's t)
};

/// Where a run is: the epoch in progress, its next batch, the steps so far, the epoch's statistics.
struct Position {
  int epoch = 1;
  std::size_t next_batch = 0;
  long steps = 0;
  EpochStats stats;
  long optimizer_steps = 0;  ///< the optimizer's update count (restore() fills it)
};

/// The common flags a resumed run must share with the saved one (seed, batch size, epochs, lr,
/// schedule, momentum, max steps); chapters add their own.
nlohmann::json resume_config(const TrainConfig& cfg);

/// True when --max-steps is set and reached.
inline bool step_limit_reached(const TrainConfig& cfg, long steps) {
  return cfg.max_steps > 0 && steps >= cfg.max_steps;
}

/// Saves and restores a run's state according to the common flags.
class Checkpointer {
 public:
  /// @param cfg        the flags (--checkpoint, --checkpoint-every, --resume).
  /// @param run_config the values a resumed run must share with the saved one (seed, batch size,
  ///                   and the chapter's own, e.g. threads in deterministic mode).
  /// @param writer     false on ranks that must not write (chapter 03: only rank 0 writes).
  Checkpointer(const TrainConfig& cfg, nlohmann::json run_config, bool writer = true);

  /// @brief With --resume: loads the checkpoint, checks it fits this run, and copies parameters
  /// and optimizer state into @p state's spans. @return where to continue (the start without
  /// --resume), with the optimizer's update count. @throws InputError naming the file and what is wrong.
  Position restore(const ParamLayout& layout, const StateView& state);

  /// True when a checkpoint is due after @p steps steps (every --checkpoint-every steps).
  bool due(long steps) const { return enabled() && every_ > 0 && steps % every_ == 0; }
  bool enabled() const { return !path_.empty(); }

  /// Writes the state atomically (no-op on a non-writer or without --checkpoint).
  void save(const ParamLayout& layout, const StateView& state, const Position& at);
  /// "FILE (step N)" of the last checkpoint written or read, or "none".
  std::string last() const;

 private:
  std::string path_, optimizer_name_;
  long every_ = 0;
  bool resume_ = false, writer_ = true;
  nlohmann::json run_config_;
  long last_step_ = -1;
};

/// The divergence guard: one contract for every chapter. NaN or Inf in a step's loss or gradients
/// is caught before it reaches an update that is kept, a checkpoint or the final result; the run
/// stops (TrainingDiverged, exit 1) with a message naming the step, the epoch, the first layer that
/// holds it, and the last good checkpoint. Where the check runs is the strategy's choice: after the
/// backward pass on the host, inside its parallel region, or from a flag at the loss cadence.
class DivergenceGuard {
 public:
  DivergenceGuard(const ParamLayout& layout, const Checkpointer& checkpoints)
      : layout_(layout), checkpoints_(checkpoints) {}
  /// @brief Throws TrainingDiverged unless the loss and every gradient are finite.
  /// @param loss  the step's loss.
  /// @param grads the step's gradient, in chapter 01's layout (to name the first bad layer).
  /// @param step  the step (1-based) whose gradient this is.
  /// @param epoch its epoch.
  void check(float loss, std::span<const float> grads, long step, int epoch) const;
  /// @brief Throws TrainingDiverged.
  /// @param what  what is not finite ("the loss is nan", ...).
  /// @param step  the step (1-based).
  /// @param epoch its epoch.
  [[noreturn]] void fail(const std::string& what, long step, int epoch) const;
  /// True when every value of @p values is finite (a vectorised scan of all of them: the common
  /// case, all finite, is cheap; for checks on parts of a gradient).
  static bool finite(std::span<const float> values);

 private:
  const ParamLayout& layout_;
  const Checkpointer& checkpoints_;
};

}  // namespace ptt
