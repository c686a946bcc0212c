// model_parallel_step.hpp — chapter 05's step strategy: one batch through the model split between
// workers (tensor parallel or pipeline parallel), as the core's training loop calls it.
//
// Chapter 01's buffers stay the host state: the shards are scattered from them before the first
// step (initial weights, or a checkpoint with its optimizer state) and gathered back into them for
// evaluation, checkpoints and the final checksum. In between, each worker trains its own shard.
//
// The step's time is booked to what really happens. Forward and backward interleave on all
// workers at once, so they cannot be told apart from the outside; the timeline can. Of the wall
// time of forward_backward, the workers' mean busy time is "compute", their mean time inside
// all-reduces (tensor parallel) is "reduce", and the rest is "idle": waiting for a neighbour (the
// pipeline's bubble), for a peer's partial sum, or for the threads to start and join.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ch05/model_parallel.hpp"
#include "ch05/pipeline_engine.hpp"
#include "ch05/timeline_report.hpp"
#include "ptt/train.hpp"

namespace ptt::ch05 {

/// How the model is split (chapter 05's flags).
struct Options {
  int tp = 1;                              ///< --tp: tensor-parallel workers (every layer pair split)
  int pp = 1;                              ///< --pp: pipeline stages (the layers split)
  int microbatches = 1;                    ///< --microbatches: per mini-batch (pipeline)
  Schedule schedule = Schedule::OneFOneB;  ///< --schedule
  std::string trace;                       ///< --trace FILE: the first steps' timeline (empty: none)
};

/// @brief The split @p options asks for, of the model laid out by @p full: a TensorParallelMlp
/// when tp > 1, else a PipelineMlp (one stage when pp = 1), with its timeline recording.
/// @throws InputError when the model cannot be split so (see the two classes).
std::unique_ptr<ModelParallel> make_model_parallel(const ParamLayout& full, const Options& options);

/// @brief Books one forward_backward() that took @p seconds of wall time, whose timeline has the
/// utilisation @p u: the workers' mean busy time to Phase::Compute, their mean all-reduce time to
/// Phase::Reduce (only when there were all-reduces) and the rest to Phase::Idle, so that the three
/// add up to @p seconds.
void book_worker_time(PhaseTimer& phases, const Utilisation& u, double seconds);

/// Chapter 05's idea as a step: the model split between workers.
class ModelParallelStep final : public StepStrategy {
 public:
  /// @param model   chapter 01's model: its parameters are the host state (initial, gathered).
  /// @param train   the training set the batches index.
  /// @param cfg     --optimizer, --lr, --momentum (each worker's optimizer).
  /// @param options the split, and --trace.
  /// @throws InputError when the split does not fit the model or --trace cannot be written.
  ModelParallelStep(Mlp& model, const Dataset& train, const TrainConfig& cfg, const Options& options);

  StateView host_state() override;
  void push_state(long optimizer_steps) override;
  void pull_state() override;
  void step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) override;
  void finish(Reporter& report) override;

  /// The split model (for tests).
  const ModelParallel& parallel() const { return *parallel_; }

 private:
  Mlp& model_;
  const Dataset& train_;
  std::unique_ptr<ModelParallel> parallel_;
  std::vector<float> optimizer_state_;  // chapter 01's layout, current after pull_state()
  long optimizer_steps_ = 0;
  TimelineReport timeline_;
  Matrix x_;
  std::vector<std::uint8_t> y_;
};

}  // namespace ptt::ch05
