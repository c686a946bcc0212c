// Chapter 07's step for the core's loop (see uneven_step.hpp).
#include "ch07/uneven_step.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include "ch03/distributed.hpp"
#include "ch03/mpi_runtime.hpp"
#include "ch07/model_average.hpp"
#include "ptt/error.hpp"
#include "ptt/metrics.hpp"
#include "ptt/rng.hpp"

namespace ptt::ch07 {

std::vector<std::uint32_t> local_epoch_order(std::span<const std::uint32_t> shard, std::uint64_t seed,
                                             int epoch, int rank) {
  std::vector<std::uint32_t> order(shard.begin(), shard.end());
  const std::uint64_t stream = kSplitStream + (std::uint64_t{1} << 32) +
                               (static_cast<std::uint64_t>(epoch) << 16) + static_cast<std::uint64_t>(rank);
  auto rng = make_rng(seed, RngPurpose::Shuffle, stream);
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

UnevenStep::UnevenStep(Mlp& model, const Dataset& train, const TrainConfig& cfg, const Shards& shards,
                       const SyncOptions& sync, MPI_Comm comm, Reporter* report,
                       const BalanceOptions& balance)
    : model_(model),
      train_(train),
      optimizer_(make_optimizer(cfg.optimizer, model.params.size(), cfg.lr, cfg.momentum)),
      sync_(sync),
      comm_(comm),
      report_(report),
      seed_(cfg.seed),
      average_state_(!(cfg.optimizer == "sgd" && cfg.momentum == 0.0)),
      balance_(balance) {
  PTT_MPI_CHECK(MPI_Comm_rank(comm, &rank_));
  PTT_MPI_CHECK(MPI_Comm_size(comm, &world_));
  PTT_CHECK(static_cast<int>(shards.size()) == world_, "the split must have one shard per rank");
  PTT_CHECK(sync.average_models || (sync.kind == SyncKind::Steps && sync.every == 1),
            "gradient mode synchronises every step");
  owner_ = owners(shards, static_cast<std::size_t>(train.size()));
  shard_ = shards[static_cast<std::size_t>(rank_)];
  weight_ = static_cast<double>(shard_.size()) / static_cast<double>(train.size());
  PTT_CHECK(!(sync.average_models && (balance.by_speed || !balance.shares.empty())),
            "speed-proportional parts are for the synchronous gradient mode");
  PTT_CHECK(balance.shares.empty() || static_cast<int>(balance.shares.size()) == world_,
            "one share per rank");
  speeds_ =
      balance.shares.empty() ? std::vector<double>(static_cast<std::size_t>(world_), 1.0) : balance.shares;
  if (sync_.average_models) {
    local_.assign(model.params.begin(), model.params.end());
    host_state_.assign(optimizer_->state().begin(), optimizer_->state().end());
  }
}

StateView UnevenStep::host_state() {
  if (!sync_.average_models) return {model_.params, optimizer_->state(), optimizer_->steps_taken()};
  return {model_.params, host_state_, optimizer_->steps_taken()};
}

void UnevenStep::push_state(long optimizer_steps) {
  // Rank 0's initial (or restored) state everywhere, as in chapter 03.
  PTT_MPI_CHECK(MPI_Bcast(model_.params.data(), static_cast<int>(model_.params.size()), MPI_FLOAT, 0, comm_));
  optimizer_->set_steps_taken(optimizer_steps);
  if (!sync_.average_models) return;
  PTT_MPI_CHECK(MPI_Bcast(host_state_.data(), static_cast<int>(host_state_.size()), MPI_FLOAT, 0, comm_));
  std::copy(model_.params.begin(), model_.params.end(), local_.begin());
  std::copy(host_state_.begin(), host_state_.end(), optimizer_->state().begin());
  in_sync_ = true;
}

void UnevenStep::pull_state() {
  if (!sync_.average_models) return publish();
  std::copy(local_.begin(), local_.end(), model_.params.begin());
  std::copy(optimizer_->state().begin(), optimizer_->state().end(), host_state_.begin());
  if (!in_sync_) {  // the replicas differ: evaluate (and save) their average, leave them be
    std::span<float> state = average_state_ ? std::span<float>(host_state_) : std::span<float>();
    average_models(model_.params, state, weight_, comm_);
    eval_bytes_ += (model_.params.size() + state.size()) * sizeof(float);
  }
  publish();
}

void UnevenStep::publish() {
  if (report_ == nullptr) return;
  report_->extra()["syncs"] = syncs_;
  report_->extra()["sync_bytes_per_rank"] = sync_bytes_;
  report_->extra()["eval_bytes_per_rank"] = eval_bytes_;
  if (!counts_.empty()) report_->extra()["last_parts"] = counts_;
}

void UnevenStep::start_epoch(const EpochPlan& plan) {
  if (!sync_.average_models) return;
  num_batches_ = std::max<std::size_t>(1, plan.sampler.num_batches());
  batch_index_ = plan.first_batch;
  order_ = local_epoch_order(shard_, seed_, plan.epoch, rank_);
}

void UnevenStep::step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) {
  if (sync_.average_models)
    local_step(ctx);  // [ch07] each rank on its own shard; the global batch is not used
  else
    gradient_step(batch, ctx, stats);
}

//! [gradient_step]
void UnevenStep::gradient_step(std::span<const std::uint32_t> batch, const StepContext& ctx,
                               EpochStats& stats) {
  {
    auto t = ctx.phases.scope(Phase::Data);
    select_samples(effective_batch(batch, ctx.step), ctx.step);
  }
  const std::size_t n = effective_.size();  // |B|: the batch after --imbalance / resampling
  if (n == 0) return;                       // every sample of this batch was dropped: no step
  const bool weighted = classes_.balance == ClassBalance::Weights;
  const float weight = weighted ? 1.0f : static_cast<float>(mine_.size()) / static_cast<float>(n);
  float local_loss = 0.0f;
  std::size_t local_correct = 0;
  if (!mine_.empty()) {
    Stopwatch compute;
    if (weighted) {
      weighted_gradient(ctx, local_loss, local_correct);  // already scaled: sum_c (w_c m_kc / W) g_kc
    } else {
      {
        auto t = ctx.phases.scope(Phase::Data);
        gather(train_, mine_, x_, y_);
      }
      {
        auto t = ctx.phases.scope(Phase::Forward);
        mlp_forward(model_.layout, model_.params, x_, ws_);
      }
      auto t = ctx.phases.scope(Phase::Backward);
      local_loss = mlp_backward(model_.layout, model_.params, y_, ws_, model_.grads);
      local_correct = count_correct(ws_.logits(), y_);
    }
    if (rank_ == balance_.slow_rank && balance_.slowdown > 1.0) {  // [ch07] a straggler: F times the compute
      auto t = ctx.phases.scope(Phase::Backward);
      std::this_thread::sleep_for(
          std::chrono::duration<double>((balance_.slowdown - 1.0) * compute.seconds()));
    }
    window_seconds_ += compute.seconds();
    window_samples_ += mine_.size();
  } else {
    std::fill(model_.grads.begin(), model_.grads.end(), 0.0f);  // an empty part adds zeros
  }
  {
    auto t = ctx.phases.scope(Phase::Reduce);
    if (weight != 1.0f)
      for (float& g : model_.grads) g *= weight;  // g_k -> (b_k / |B|) g_k
    ch03::mpi_allreduce(model_.grads, comm_);     // sum over the ranks: the global mean gradient
    double s[2] = {static_cast<double>(weight) * local_loss, static_cast<double>(local_correct)};
    PTT_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, s, 2, MPI_DOUBLE, MPI_SUM, comm_));
    local_loss = static_cast<float>(s[0]);
    local_correct = static_cast<std::size_t>(s[1]);
  }
  ++syncs_;
  sync_bytes_ += model_.grads.size() * sizeof(float);
  ctx.guard.check(local_loss, model_.grads, ctx.step, ctx.epoch);  // the same on every rank
  {
    auto t = ctx.phases.scope(Phase::Update);
    optimizer_->set_lr(ctx.lr);
    optimizer_->step(model_.params, model_.grads);  // the same update on every replica
  }
  stats.add(local_loss, local_correct, n);
}

std::span<const std::uint32_t> UnevenStep::effective_batch(std::span<const std::uint32_t> batch, long step) {
  effective_.clear();
  if (classes_.keep.empty() && classes_.balance != ClassBalance::Resample) {
    effective_.assign(batch.begin(), batch.end());
    return effective_;
  }
  std::size_t kept = 0;
  for (std::uint32_t i : batch)
    if (classes_.keep.empty() || classes_.keep[i]) {
      effective_.push_back(i);
      ++kept;
    }
  if (classes_.balance == ClassBalance::Resample)  // [ch07] class-balanced batches of the same size
    effective_ = class_balanced_draw(members_, kept, seed_, step);
  return effective_;
}

void UnevenStep::weighted_gradient(const StepContext& ctx, float& loss, std::size_t& correct) {
  // W = sum over the global batch of w_{y_i}: every rank knows the batch, so every rank knows W.
  double total = 0.0;
  for (std::uint32_t i : effective_) total += classes_.weights[train_.y[i]];
  std::fill(model_.grads.begin(), model_.grads.end(), 0.0f);
  const std::size_t num_classes = classes_.weights.size();
  for (std::size_t c = 0; c < num_classes; ++c) {
    subset_.clear();
    for (std::uint32_t i : mine_)
      if (train_.y[i] == c) subset_.push_back(i);
    if (subset_.empty() || classes_.weights[c] == 0.0) continue;
    {
      auto t = ctx.phases.scope(Phase::Data);
      gather(train_, subset_, x_, y_);
    }
    {
      auto t = ctx.phases.scope(Phase::Forward);
      mlp_forward(model_.layout, model_.params, x_, ws_);
    }
    auto t = ctx.phases.scope(Phase::Backward);
    const float l = mlp_backward(model_.layout, model_.params, y_, ws_, class_grads_);
    correct += count_correct(ws_.logits(), y_);
    const double coef = classes_.weights[c] * static_cast<double>(subset_.size()) / total;  // w_c m_kc / W
    const auto f = static_cast<float>(coef);
    for (std::size_t j = 0; j < class_grads_.size(); ++j) model_.grads[j] += f * class_grads_[j];
    loss += static_cast<float>(coef * l);
  }
}

void UnevenStep::set_classes(const ClassOptions& classes) {
  PTT_CHECK(!sync_.average_models || (classes.keep.empty() && classes.balance != ClassBalance::Weights),
            "--imbalance and --class-balance weights are for the synchronous gradient mode");
  classes_ = classes;
  PTT_CHECK(classes_.balance != ClassBalance::Weights || !classes_.weights.empty(), "class weights missing");
  class_grads_.assign(model_.params.size(), 0.0f);
  members_.assign(256, {});
  if (sync_.average_models) {  // local SGD: resampling within this rank's own shard
    for (std::uint32_t i : shard_) members_[train_.y[i]].push_back(i);
    return;
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(train_.size()); ++i)
    if (classes_.keep.empty() || classes_.keep[i])
      members_[train_.y[i]].push_back(static_cast<std::uint32_t>(i));
}

void UnevenStep::report_classes(const Dataset& test, int classes) {
  test_ = &test;
  num_classes_ = classes;
}
//! [gradient_step]

void UnevenStep::select_samples(std::span<const std::uint32_t> batch, long step) {
  mine_.clear();
  if (!balance_.by_speed && balance_.shares.empty()) {
    // [ch07] route the global batch: this rank computes only the samples it holds (b_k of |B|).
    for (std::uint32_t i : batch)
      if (owner_[i] == rank_) mine_.push_back(i);
    return;
  }
  // [ch07] speed-proportional parts: contiguous pieces of the batch, sizes from the ranks' speeds.
  if (balance_.by_speed && balance_.shares.empty() && step > 1 && (step - 1) % balance_.every == 0)
    rebalance();
  counts_ = proportional_counts(batch.size(), speeds_);
  std::size_t begin = 0;
  for (int k = 0; k < rank_; ++k) begin += counts_[static_cast<std::size_t>(k)];
  const std::size_t n = counts_[static_cast<std::size_t>(rank_)];
  mine_.assign(batch.begin() + static_cast<std::ptrdiff_t>(begin),
               batch.begin() + static_cast<std::ptrdiff_t>(begin + n));
}

void UnevenStep::rebalance() {
  // This rank's samples per second of compute over the window (its old speed if it computed
  // nothing), gathered from every rank: all ranks then cut the batch the same way.
  const double mine = window_samples_ > 0 && window_seconds_ > 0.0
                          ? static_cast<double>(window_samples_) / window_seconds_
                          : speeds_[static_cast<std::size_t>(rank_)];
  PTT_MPI_CHECK(MPI_Allgather(&mine, 1, MPI_DOUBLE, speeds_.data(), 1, MPI_DOUBLE, comm_));
  window_seconds_ = 0.0;
  window_samples_ = 0;
}

//! [local_step]
void UnevenStep::local_step(const StepContext& ctx) {
  // [ch07] batch i of this rank's epoch: its part of its own shuffled shard.
  const Range r = shard_range(order_.size(), batch_index_ % num_batches_, num_batches_);
  ++batch_index_;
  if (r.size() == 0 || diverged_at_ != 0) {
    optimizer_->set_steps_taken(optimizer_->steps_taken() + 1);  // Adam's t stays the ranks' common count
  } else {
    {
      auto t = ctx.phases.scope(Phase::Data);
      if (classes_.balance == ClassBalance::Resample) {
        // [ch07] class-balanced batches from this rank's own shard (its own stream of draws)
        effective_ = class_balanced_draw(members_, r.size(),
                                         seed_ + (static_cast<std::uint64_t>(rank_ + 1) << 48), ctx.step);
        gather(train_, effective_, x_, y_);
      } else {
        gather(train_, std::span<const std::uint32_t>(order_).subspan(r.begin, r.size()), x_, y_);
      }
    }
    {
      auto t = ctx.phases.scope(Phase::Forward);
      mlp_forward(model_.layout, local_, x_, ws_);
    }
    float loss;
    {
      auto t = ctx.phases.scope(Phase::Backward);
      loss = mlp_backward(model_.layout, local_, y_, ws_, model_.grads);
    }
    if (!std::isfinite(loss) || !DivergenceGuard::finite(model_.grads)) {
      // Not kept; the ranks learn of it at the next averaging or flush, and stop together.
      diverged_at_ = ctx.step;
      optimizer_->set_steps_taken(optimizer_->steps_taken() + 1);
    } else {
      auto t = ctx.phases.scope(Phase::Update);
      optimizer_->set_lr(ctx.lr);
      optimizer_->step(local_, model_.grads);
      pending_loss_ += static_cast<double>(loss) * static_cast<double>(r.size());
      pending_correct_ += count_correct(ws_.logits(), y_);
      pending_samples_ += r.size();
      in_sync_ = false;
    }
  }
  ++since_sync_;
  const bool due = (sync_.kind == SyncKind::Steps && since_sync_ >= sync_.every) ||
                   (sync_.kind == SyncKind::Epoch && batch_index_ == num_batches_);
  if (due) synchronize(ctx);
}
//! [local_step]

void UnevenStep::agree_finite(long step, int epoch, const DivergenceGuard& guard) {
  long first = diverged_at_ != 0 ? diverged_at_ : LONG_MAX;
  PTT_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_LONG, MPI_MIN, comm_));
  if (first != LONG_MAX)
    guard.fail(
        "a rank's local loss or gradient is not finite (local SGD; at step " + std::to_string(first) + ")",
        step, epoch);
}

void UnevenStep::synchronize(const StepContext& ctx) {
  agree_finite(ctx.step, ctx.epoch, ctx.guard);
  auto t = ctx.phases.scope(Phase::Reduce);
  std::span<float> state = average_state_ ? optimizer_->state() : std::span<float>();
  average_models(local_, state, weight_, comm_);  // [ch07] w = sum_k (n_k / n) w_k, and the state
  ++syncs_;
  sync_bytes_ += (local_.size() + state.size()) * sizeof(float);
  since_sync_ = 0;
  in_sync_ = true;
}

void UnevenStep::flush(const StepContext& ctx, EpochStats& stats) {
  if (!sync_.average_models) return;
  agree_finite(ctx.step, ctx.epoch, ctx.guard);
  double s[3] = {pending_loss_, static_cast<double>(pending_correct_), static_cast<double>(pending_samples_)};
  PTT_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, s, 3, MPI_DOUBLE, MPI_SUM, comm_));
  if (s[2] > 0)
    stats.add(static_cast<float>(s[0] / s[2]), static_cast<std::size_t>(s[1]),
              static_cast<std::size_t>(s[2]));
  pending_loss_ = 0.0;
  pending_correct_ = pending_samples_ = 0;
}

void UnevenStep::finish(Reporter& report) {
  if (sync_.average_models) {
    if (!in_sync_) {  // --sync-once, or a run that stopped between averagings: the last one
      std::span<float> state = average_state_ ? optimizer_->state() : std::span<float>();
      average_models(local_, state, weight_, comm_);
      ++syncs_;
      sync_bytes_ += (local_.size() + state.size()) * sizeof(float);
      in_sync_ = true;
    }
    std::copy(local_.begin(), local_.end(), model_.params.begin());
    std::copy(optimizer_->state().begin(), optimizer_->state().end(), host_state_.begin());
  }
  ch03::check_replicas(model_.params, comm_);  // [ch07] every replica ends identical
  report_ = &report;
  publish();
  if (test_ != nullptr && rank_ == 0) {  // [ch07] what plain accuracy hides: recall per class, macro-F1
    const ClassReport r =
        class_report(evaluate(model_.layout, model_.params, *test_, num_classes_).confusion);
    report.extra()["recall"] = r.recall;
    report.extra()["macro_f1"] = r.macro_f1;
    std::printf("per-class recall:");
    for (double x : r.recall) std::printf(" %.3f", x);
    std::printf("   macro-F1 %.4f\n", r.macro_f1);
  }
}

}  // namespace ptt::ch07
