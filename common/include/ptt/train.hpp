// ptt/train.hpp — the training loop every chapter shares, and the interface a chapter plugs into it.
//
// The core owns the loop: epochs, the shuffled batches, --resume, the checkpoint cadence, the
// divergence guard's contract, phase timing, the progress bar, evaluation, metrics, --max-steps and
// the final report. A chapter contributes a StepStrategy — its idea: how one batch becomes an
// update (on one thread, on many threads, on many ranks, on a GPU, on a split model) — and its
// flags. A driver is then its flags, its strategy and one call:
//
//     ptt::TrainingRun run("ch01_serial", cfg);        // metrics file, checkpoints, data, model
//     ptt::SerialStep step(run.model(), run.data().train, cfg);
//     run.train(step);
//
// What the loop does for each step (the chapter 01 README shows it in full):
//     for epoch = first ..= --epochs:
//       strategy.start_epoch(...)
//       for each batch b of the epoch (shuffled by (seed, epoch)):
//         strategy.step(batch indices, {step, epoch, lr, phases, guard}, epoch statistics)
//         every --checkpoint-every steps: strategy.flush(), pull_state(), save
//       strategy.flush(); strategy.pull_state(); evaluate on the test set; report; save
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "ptt/data.hpp"
#include "ptt/error.hpp"
#include "ptt/metrics.hpp"
#include "ptt/metrics_log.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "ptt/report.hpp"
#include "ptt/resume.hpp"
#include "ptt/timer.hpp"
#include "ptt/train_config.hpp"

namespace ptt {

/// What the loop hands one step.
struct StepContext {
  long step = 0;                 ///< this step's number, 1-based over the whole run
  int epoch = 1;                 ///< the epoch it belongs to
  double lr = 0.0;               ///< its learning rate (--lr under --lr-schedule)
  PhaseTimer& phases;            ///< where the step books its time (only the phases it really has)
  const DivergenceGuard& guard;  ///< checks the loss and gradients before the update is kept
};

/// What the loop tells a strategy at the start of an epoch.
struct EpochPlan {
  int epoch = 1;
  const BatchSampler& sampler;  ///< this epoch's batches (already shuffled)
  std::size_t first_batch = 0;  ///< > 0 in an epoch resumed from a checkpoint
  long first_step = 0;          ///< steps made before the epoch's batch 0 (the schedule's position)
  long total_steps = 0;         ///< the run's planned steps (what the learning-rate schedule spans)
};

/// A chapter's idea: how one batch becomes an update.
class StepStrategy {
 public:
  virtual ~StepStrategy() = default;

  /// The model's state in chapter 01's layout, in host memory: current after pull_state().
  virtual StateView host_state() = 0;
  /// Host state -> wherever the steps run (threads' shards, the other ranks, the GPU). Called once
  /// before the first step, after --resume has written the host state. @p optimizer_steps: the
  /// optimizer's update count to continue from (Adam's t).
  virtual void push_state(long optimizer_steps) = 0;
  /// Wherever the steps run -> host state (before evaluation, a checkpoint, the final checksum).
  virtual void pull_state() {}

  /// Before an epoch's first step (e.g. a GPU uploads the epoch's sample order).
  virtual void start_epoch(const EpochPlan& plan) { (void)plan; }
  /// @brief One optimizer step on the global batch with sample indices @p batch: forward,
  /// backward, (combine), update, with the divergence guard before the update is kept.
  /// @param batch the batch's sample indices in the training set.
  /// @param ctx   the step's number, epoch, learning rate, phase timer and guard.
  /// @param stats the epoch's running loss and accuracy; a strategy that knows them at once adds
  ///              the batch's here, one that does not (a GPU) adds them in flush().
  virtual void step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) = 0;
  /// True when step() adds every batch to the statistics at once. Otherwise the loop calls
  /// flush() every few steps while a progress bar is shown (it costs the strategy a wait).
  virtual bool stats_each_step() const { return true; }
  /// Waits for steps still in flight, adds what they have not yet reported to @p stats and runs
  /// the divergence guard on them. Called before every checkpoint and at the end of each epoch.
  virtual void flush(const StepContext& ctx, EpochStats& stats) { (void)ctx, (void)stats; }
  /// After the last step, before the final report: the strategy's own summary (a timeline, a
  /// replica check) and fields for the final metrics record.
  virtual void finish(Reporter& report) { (void)report; }
};

/// How the processes of one run act together. One process alone (the default) leads and reports
/// its own errors; chapter 03 supplies MPI's, where rank 0 leads and a bad input on any rank is
/// reported once and stops every rank.
class Team {
 public:
  virtual ~Team() = default;
  /// The process that prints, shows progress, evaluates and writes files.
  virtual bool leader() const { return true; }
  /// @brief Every process says whether its part so far failed with bad input (@p error). If any
  /// did, the failure is reported once and every process stops with exit code 2.
  virtual void agree(const std::optional<std::string>& error) {
    if (error) throw InputError(*error);
  }
};

/// One training run: the metrics file, the checkpoints, the data set and the model (He
/// initialisation from --seed), then the loop with a chapter's strategy.
class TrainingRun {
 public:
  /// @brief Opens --metrics, checks --checkpoint, loads the data set, builds and initialises the
  /// model. Any bad input is reported once (exit code 2) before any training.
  /// @param program       the executable's name, e.g. "ch01_serial".
  /// @param cfg           the parsed common flags.
  /// @param resume_config the chapter's values a resumed run must share with the saved one (e.g.
  ///                      {"threads", 3} in a deterministic mode), added to the common ones.
  /// @param team          how the processes act together (default: one process).
  TrainingRun(std::string program, const TrainConfig& cfg, const nlohmann::json& resume_config = {},
              Team* team = nullptr);

  const TrainConfig& config() const { return cfg_; }
  const TrainTest& data() const { return data_; }
  /// The model in chapter 01's layout: initial parameters, and a gradient buffer for strategies
  /// that keep their state here.
  Mlp& model() { return *model_; }
  /// The report; a chapter adds its own fields to every metrics record with report().extra().
  Reporter& report() { return *report_; }
  Team& team() { return *team_; }
  /// @brief Makes every step draw @p samples samples (the global batch) instead of --batch-size:
  /// chapter 03's --batch-size is per rank, and its global batch is that times the ranks.
  void set_global_batch(std::size_t samples) { global_batch_ = samples; }

  /// @brief The loop (see the file comment) with @p strategy. @return the last test evaluation.
  Evaluation train(StepStrategy& strategy);

 private:
  std::string program_;
  TrainConfig cfg_;
  Team alone_;
  Team* team_;
  std::optional<MetricsLog> log_;  // optional: built inside try blocks, then agreed on
  std::optional<Checkpointer> checkpoints_;
  TrainTest data_;
  std::optional<Mlp> model_;
  std::optional<Reporter> report_;
  std::size_t global_batch_;
};

/// Chapter 01's step, the reference every other chapter is tested against: on one thread (Eigen's
/// products may use more with --intra-op), gather the batch, forward, backward, guard, update.
class SerialStep : public StepStrategy {
 public:
  /// @param model the model whose buffers this step trains in place.
  /// @param train the training set the batches index.
  /// @param cfg   --optimizer, --lr, --momentum.
  SerialStep(Mlp& model, const Dataset& train, const TrainConfig& cfg);
  StateView host_state() override;
  void push_state(long optimizer_steps) override;
  void step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) override;

 private:
  Mlp& model_;
  const Dataset& train_;
  std::unique_ptr<Optimizer> optimizer_;
  Workspace ws_;
  Matrix x_;
  std::vector<std::uint8_t> y_;
};

}  // namespace ptt
