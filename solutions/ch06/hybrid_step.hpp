// solutions/ch06/hybrid_step.hpp — chapter 06's step for the core's training loop: the grid.
//
// Chapter 01's buffers stay the host state. push_state() hands every rank its part of them
// (parameters, and optimizer state: all of its part, or its ZeRO-1 shard); pull_state() gathers
// the parts back onto rank 0, which evaluates, writes checkpoints and the final checksum. A
// checkpoint is therefore in chapter 01's layout, whatever the grid: a run saved on one grid
// resumes on any other (the parts are cut anew from the gathered buffers).
#pragma once

#include <mpi.h>

#include <memory>

#include "ch06/hybrid_model.hpp"
#include "ptt/train.hpp"

namespace ptt::ch06 {

class HybridStep final : public StepStrategy {
 public:
  /// @param model   chapter 01's model: the host state.
  /// @param train   the training set (every rank has it; the first stages gather their samples).
  /// @param cfg     --optimizer, --lr, --momentum.
  /// @param options the grid, micro-batches, schedule, ZeRO.
  /// @param world   the ranks (collective).
  /// @throws InputError when the grid does not fit the world or the model.
  HybridStep(Mlp& model, const Dataset& train, const TrainConfig& cfg, const Options& options,
             MPI_Comm world);

  StateView host_state() override;
  void push_state(long optimizer_steps) override;
  void pull_state() override;
  void step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) override;
  /// The dp replicas must be identical; rank 0 prints the memory and traffic tables and adds them
  /// to the final metrics record.
  void finish(Reporter& report) override;

  HybridModel& parallel() { return parallel_; }

 private:
  Mlp& model_;
  const Dataset& train_;
  MPI_Comm world_;
  HybridModel parallel_;
  std::vector<float> optimizer_state_;  // chapter 01's layout, current on rank 0 after pull_state()
  long optimizer_steps_ = 0;
};

/// @brief Every rank's memory (measured and by formula) and traffic, gathered on world rank 0 as
/// JSON: [{"rank", "dp", "pp", "tp", "measured": {...}, "formula": {...}, "traffic": {...}}, ...].
/// Collective; returns an empty array on the other ranks.
nlohmann::json gather_accounts(const HybridModel& model, MPI_Comm world);

/// @brief The memory table (bytes per rank, measured beside the formula) as text.
std::string memory_table(const nlohmann::json& accounts);

}  // namespace ptt::ch06
