// solutions/ch06/hybrid_model.hpp — one rank's part of the model on the dp x pp x tp grid, and
// one training step of the whole grid.
//
// Every rank is an MPI process holding one RankShard (rank_shard.hpp): the layers of its pipeline
// stage, split over its tensor-parallel group. One step on the global batch of B samples:
//
//   data     dp rank d takes its shard of the batch, shard_range(B, d, dp), and cuts it into m
//            micro-batches (fewer when the shard has fewer than m samples).
//   pipeline every stage runs chapter 05's schedule (GPipe or 1F1B) over them. Stage s receives
//            micro-batch j's activations from stage s-1 (MPI_Recv on the pp group) and sends its
//            own to s+1 (MPI_Isend); in the backward pass the gradients flow back the same way.
//   tensor   inside a stage, every row-parallel layer's output and every column-parallel layer's
//            input gradient is summed over the tp group (MPI_Allreduce): chapter 05's split.
//   data     each micro-batch's loss gradient is divided by the GLOBAL batch size B, so the sum
//            over micro-batches and dp ranks is chapter 01's mean gradient. With ZeRO 0 the dp
//            group all-reduces the gradients in buckets, started during the last backward pass
//            (chapter 03's overlap); with ZeRO 1 it reduce-scatters them instead and each rank
//            updates only its shard (zero.hpp).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ch03/distributed.hpp"
#include "ch05/pipeline_engine.hpp"
#include "ch06/grid.hpp"
#include "ch06/rank_shard.hpp"
#include "ptt/data.hpp"
#include "ptt/optim.hpp"
#include "ptt/timer.hpp"

namespace ptt::ch06 {

/// Chapter 06's flags.
struct Options {
  Grid grid;                                           ///< --dp --pp --tp --order
  int microbatches = 1;                                ///< --microbatches, per dp shard
  ch05::Schedule schedule = ch05::Schedule::OneFOneB;  ///< --schedule
  int zero = 0;                                        ///< --zero: 0 (replicated state) or 1 (sharded)
  std::size_t bucket_bytes = 256 * 1024;               ///< --bucket-kb: the dp all-reduce's buckets
};

/// What one step of the grid computed, the same on every rank.
struct StepOutcome {
  float loss = 0.0f;        ///< mean loss over the global batch
  std::size_t correct = 0;  ///< correct predictions over the global batch
  bool finite = true;       ///< the loss and every rank's gradients are finite
};

/// Bytes of one rank's buffers, by kind.
struct Memory {
  std::size_t params = 0;       ///< its parameters
  std::size_t grads = 0;        ///< its gradient buffer
  std::size_t optimizer = 0;    ///< its optimizer state (momentum; Adam's m and v)
  std::size_t activations = 0;  ///< peak of the forward activations held for backward passes
  std::size_t comm = 0;         ///< communication buffers (ZeRO's summed gradient shard)
};

/// Bytes one rank handed to MPI in its last step, per group.
struct Traffic {
  std::size_t tp = 0;  ///< all-reduce payloads on the tp group (MPI_Allreduce's own traffic is hidden)
  std::size_t pp = 0;  ///< activations and gradients sent to the neighbouring stages (exact)
  std::size_t dp = 0;  ///< all-reduce (or reduce-scatter + all-gather) payload on the dp group
};

/// One rank's part of the model and the grid's step.
class HybridModel {
 public:
  /// @param full    chapter 01's layout.
  /// @param options the grid (its size must be the size of @p world), micro-batches, schedule, ZeRO.
  /// @param world   the ranks; collective (splits the groups).
  /// @throws InputError when the grid does not fit the world or the model.
  HybridModel(const ParamLayout& full, const Options& options, MPI_Comm world);
  ~HybridModel();
  HybridModel(const HybridModel&) = delete;
  HybridModel& operator=(const HybridModel&) = delete;

  const Coords& coords() const { return coords_; }
  const RankShard& shard() const { return shard_; }
  const Groups& groups() const { return groups_; }
  const Options& options() const { return options_; }

  /// @brief Creates this rank's optimizer ("sgd" or "adam"): for its whole part, or under ZeRO-1
  /// for its dp shard of it.
  void make_optimizer(const std::string& name, double lr, double momentum);
  /// This rank's part from chapter 01's buffer @p full (the same on every rank).
  void load_params(std::span<const float> full);
  /// @brief This rank's optimizer state from chapter 01's layout (k arrays of the full buffer,
  /// Optimizer::state()'s layout), and the update count.
  void load_optimizer(std::span<const float> full, long optimizer_steps);
  /// @brief Collective: chapter 01's buffer assembled from every rank's part, on world rank 0
  /// (@p full is not touched elsewhere).
  void gather_params(std::span<float> full) const;
  void gather_grads(std::span<float> full) const;
  void gather_optimizer(std::span<float> full) const;
  /// Floats of optimizer state in chapter 01's layout: k per parameter of the whole model.
  std::size_t full_optimizer_size() const;
  long optimizer_steps() const { return optimizer_->steps_taken(); }

  /// @brief Forward and backward passes of one global batch on the whole grid, and (ZeRO 0) the
  /// dp all-reduce. Every rank passes the same @p batch. Collective over the world.
  StepOutcome forward_backward(const Dataset& data, std::span<const std::uint32_t> batch, PhaseTimer* phases);
  /// @brief The update (ZeRO 1: reduce-scatter, shard update, all-gather) at learning rate @p lr.
  void update(double lr, PhaseTimer* phases);

  /// Bytes of this rank's buffers, counted from what it allocated (activations: the peak so far).
  Memory memory() const;
  /// The same from the formulas (README), for comparison.
  Memory memory_formula() const;
  /// Bytes handed to MPI in the last step.
  const Traffic& traffic() const { return traffic_; }
  /// The same from the formulas (README): for the last step's batch, from the layer widths.
  Traffic traffic_formula() const;
  /// Most micro-batches whose activations this rank held at once (so far).
  int peak_held() const { return peak_held_; }
  /// @brief Collective: throws std::runtime_error when the dp replicas of this rank's part differ.
  void check_replicas() const;

 private:
  struct Slot;  // one micro-batch's activations, and the sends still reading them
  Slot& take_slot();
  void give_back(Slot& slot);
  void forward(int micro, Slot& slot, const Dataset& data, std::span<const std::uint32_t> rows,
               double& loss_sum, std::size_t& correct);
  void backward(int micro, Slot& slot, bool last_op);
  void tp_allreduce(Matrix& m);
  template <class Values>
  void gather_to_root(std::span<float> full, std::size_t k, bool sharded, Values&& local) const;

  const ParamLayout& full_;
  Options options_;
  MPI_Comm world_;
  int rank_ = 0;
  Coords coords_;
  Groups groups_;
  RankShard shard_;
  std::vector<float> params_, grads_;
  Range zero_shard_;                // this rank's ZeRO-1 shard of params_ (all of it under ZeRO 0)
  std::vector<float> shard_grads_;  // ZeRO 1: the summed gradient of the shard
  std::unique_ptr<Optimizer> optimizer_;
  ch03::BucketedAllreduce buckets_;
  std::vector<std::unique_ptr<Slot>> slots_;  // the pool: grows to the most micro-batches held at once
  std::vector<Slot*> free_;
  std::vector<Slot*> held_;  // by micro-batch, this step
  int peak_held_ = 0;
  std::size_t held_floats_ = 0, peak_floats_ = 0;
  std::size_t batch_size_ = 0, max_batch_ = 0;  // this step's global batch; the largest so far
  Traffic traffic_;
};

/// @brief The grid as text: one line per rank with its coordinates, layers and slice (printed by
/// rank 0 at start).
std::string describe_grid(const ParamLayout& full, const Grid& grid);

}  // namespace ptt::ch06
