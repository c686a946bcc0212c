// solutions/ch07/uneven_step.hpp — chapter 07's step for the core's loop: data parallelism over
// shards that the ranks HOLD (--split), synchronously or by local SGD with model averaging.
//
// Synchronous (--sync-every 1, the default): every rank draws the same GLOBAL batch B (the loop's
// shuffle); rank k computes the mean gradient g_k of the b_k samples of B that it holds, and the
// ranks sum (b_k / |B|) g_k in one allreduce:
//
//     g = sum_k (b_k / |B|) g_k = (1 / |B|) sum_{i in B} grad l_i      — chapter 02's identity.
//
// The sum is the same whatever the split; only which rank adds which term changes (so the bits
// differ, by rounding). Synchronous data parallelism is blind to how the classes are spread.
//
// Local SGD (--sync-every H > 1, epoch, or --sync-once): every rank trains its own replica on
// batches drawn from ITS shard (each epoch, its shard shuffled by (seed, epoch, rank) and cut into
// as many batches as the loop's epoch has, so every rank sweeps its shard once per epoch), and
// every H steps the replicas are averaged weighted n_k / n (contracts/ch07/model_average.hpp: the
// optimizer state is averaged the same way). Between averagings the ranks do not talk, so a
// skewed shard pulls its replica toward its own classes: that is where the split matters.
//
// Bytes: every allreduce hands MPI the buffer of P floats, 4P bytes per rank (what we count; a
// ring allreduce moves 2 (R - 1) / R of that over each rank's link). Gradient mode pays it every
// step; local SGD pays (P + state) floats every H steps.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ch07/imbalance.hpp"
#include "ch07/proportional_counts.hpp"
#include "ch07/splits.hpp"
#include "ptt/train.hpp"

namespace ptt::ch07 {

/// When the replicas meet.
enum class SyncKind {
  Steps,  ///< every `every` steps (every = 1 with gradients: synchronous data parallelism)
  Epoch,  ///< at the end of each epoch
  Once,   ///< only at the end of the run (train apart, average once: the text's pool.map)
};

struct SyncOptions {
  SyncKind kind = SyncKind::Steps;
  long every = 1;
  /// false: allreduce the gradients every step (needs kind Steps, every 1); true: local SGD with
  /// model averaging (the driver sets it for every H > 1, epoch and once; tests also use H = 1).
  bool average_models = false;
};

/// Stragglers and speed-proportional shares (synchronous gradient mode).
///
/// A slow rank (--slow-rank R --slowdown F) sleeps (F - 1) times its measured compute time after
/// each forward + backward: its compute is F times slower, honestly in proportion to its work.
/// Synchronous steps wait for the slowest rank. With --balance speed, each global batch is cut
/// into contiguous parts whose sizes are proportional to the ranks' measured speeds (samples per
/// second of compute, re-measured every `every` steps; contracts/ch07/proportional_counts.hpp): chapter 02's
/// weighting b_k / |B| keeps the gradient exact for any cut, a part of size zero included. Every rank must
/// then be able to read every sample (as in chapter 03), so the cut ignores who holds what.
struct BalanceOptions {
  int slow_rank = -1;          ///< --slow-rank R (-1: none)
  double slowdown = 1.0;       ///< --slowdown F >= 1
  bool by_speed = false;       ///< --balance speed
  long every = 20;             ///< --rebalance-every N steps
  std::vector<double> shares;  ///< fixed shares instead of measured speeds (tests); empty: measure
};

/// How the training set's classes are treated (synchronous gradient mode; see imbalance.hpp).
enum class ClassBalance { None, Weights, Resample };
struct ClassOptions {
  std::vector<std::uint8_t> keep;  ///< keep[i]: sample i is used (empty: all are)
  ClassBalance balance = ClassBalance::None;
  std::vector<double> weights;  ///< w_c for ClassBalance::Weights
};

/// @brief Rank @p rank's shard in the order it visits it in @p epoch: shuffled with
/// make_rng(seed, Shuffle, kSplitStream + 2^32 + epoch * 2^16 + rank). Batch i of the epoch is
/// shard_range(order.size(), i, batches) of it.
std::vector<std::uint32_t> local_epoch_order(std::span<const std::uint32_t> shard, std::uint64_t seed,
                                             int epoch, int rank);

class UnevenStep final : public StepStrategy {
 public:
  /// @param model  the run's model (rank 0's initial weights are broadcast), trained in place.
  /// @param train  the training set (every rank loads it; each trains on the samples it holds).
  /// @param cfg    --optimizer, --lr, --momentum, --seed.
  /// @param shards the split (the same on every rank).
  /// @param sync   gradients every step, or local SGD and when to average.
  /// @param comm   the ranks (shards.size() of them).
  /// @param report where the communication counters go (may be null).
  /// @param balance a slow rank, and speed-proportional parts of the batch (gradient mode only).
  UnevenStep(Mlp& model, const Dataset& train, const TrainConfig& cfg, const Shards& shards,
             const SyncOptions& sync, MPI_Comm comm, Reporter* report = nullptr,
             const BalanceOptions& balance = {});
  StateView host_state() override;
  void push_state(long optimizer_steps) override;
  /// Local SGD: the weighted average of the replicas -> the host model (for evaluation and
  /// checkpoints), without changing the replicas; counted as evaluation bytes, not training bytes.
  void pull_state() override;
  void start_epoch(const EpochPlan& plan) override;
  void step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) override;
  /// Local SGD reports its statistics at flush() (one small allreduce), not every step.
  bool stats_each_step() const override { return !sync_.average_models; }
  void flush(const StepContext& ctx, EpochStats& stats) override;
  /// Local SGD: the last averaging if the run did not end on one; then the replicas must agree.
  void finish(Reporter& report) override;

  /// An imbalanced training set and its fix (--imbalance, --class-balance), before the first step.
  /// Gradient mode: all of them. Local SGD: only resampling, within each rank's own shard.
  void set_classes(const ClassOptions& classes);
  /// At the end, evaluate the final model on @p test per class (recall, macro-F1) and report it.
  void report_classes(const Dataset& test, int classes);

  /// This rank's replica (local SGD: trained apart between averagings).
  std::span<const float> local_params() const { return replica(); }
  long syncs() const { return syncs_; }
  /// Bytes handed to the training allreduces per rank so far (gradients, or parameters + state).
  std::uint64_t sync_bytes() const { return sync_bytes_; }
  /// The sizes of the last global batch's parts (gradient mode).
  const std::vector<std::size_t>& last_counts() const { return counts_; }

 private:
  std::span<float> replica() { return sync_.average_models ? std::span<float>(local_) : model_.params; }
  std::span<const float> replica() const {
    return sync_.average_models ? std::span<const float>(local_) : model_.params;
  }
  void gradient_step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats);
  void local_step(const StepContext& ctx);
  void synchronize(const StepContext& ctx);
  void agree_finite(long step, int epoch, const DivergenceGuard& guard);
  void publish();
  void select_samples(std::span<const std::uint32_t> batch, long step);
  std::span<const std::uint32_t> effective_batch(std::span<const std::uint32_t> batch, long step);
  void weighted_gradient(const StepContext& ctx, float& loss, std::size_t& correct);
  void rebalance();

  Mlp& model_;
  const Dataset& train_;
  std::unique_ptr<Optimizer> optimizer_;
  SyncOptions sync_;
  MPI_Comm comm_;
  Reporter* report_;
  int rank_ = 0, world_ = 1;
  std::uint64_t seed_;
  bool average_state_;  // SGD without momentum has no state worth averaging
  std::vector<int> owner_;
  std::vector<std::uint32_t> shard_;
  double weight_ = 1.0;  // n_k / n
  // local SGD
  std::vector<float> local_, host_state_;
  std::vector<std::uint32_t> order_;
  std::size_t batch_index_ = 0, num_batches_ = 1;
  long since_sync_ = 0;
  bool in_sync_ = true;
  long diverged_at_ = 0;  // the first step whose local loss or gradient was not finite (0: none)
  double pending_loss_ = 0.0;
  std::size_t pending_correct_ = 0, pending_samples_ = 0;
  // counters
  long syncs_ = 0;
  std::uint64_t sync_bytes_ = 0, eval_bytes_ = 0;
  // stragglers and speed-proportional parts
  BalanceOptions balance_;
  std::vector<double> speeds_;  // the ranks' last measured samples per second (or the fixed shares)
  std::vector<std::size_t> counts_;
  double window_seconds_ = 0.0;
  std::size_t window_samples_ = 0;
  // the classes
  ClassOptions classes_;
  std::vector<std::vector<std::uint32_t>> members_;  // the kept samples of each class
  std::vector<float> class_grads_;
  const Dataset* test_ = nullptr;
  int num_classes_ = 0;
  // scratch
  std::vector<std::uint32_t> effective_, subset_;
  std::vector<std::uint32_t> mine_;
  Workspace ws_;
  Matrix x_;
  std::vector<std::uint8_t> y_;
};

}  // namespace ptt::ch07
