// Chapter 02: the data-parallel step with per-shard buffers (its parallel region is
// parallel_gradient(), exercise 02.4; the trainer's part of it is StepHooks), the naive
// shared-buffer reductions, and what every reduction ends with: the loss, the guard and the
// parallel update. See data_parallel.hpp for the math; Reduction::Owner is in owner.cpp.
#include "ch02/data_parallel.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "ptt/error.hpp"
#include "ptt/metrics.hpp"
#include "ptt/resume.hpp"

namespace ptt::ch02 {

const char* reduction_name(Reduction reduction) {
  switch (reduction) {
    case Reduction::Buffers:
      return "buffers";
    case Reduction::Atomic:
      return "atomic";
    case Reduction::Critical:
      return "critical";
    case Reduction::Owner:
      return "owner";
  }
  return "?";
}

DataParallel::DataParallel(const ParamLayout& layout, const Options& options)
    : layout_(layout),
      options_(options),
      buffers_(static_cast<std::size_t>(options.shard_count()),
               options.reduction == Reduction::Owner ? 0 : layout.size()),  // Owner needs no buffers
      workspaces_(buffers_.count()),
      stats_(buffers_.count()) {
  PTT_CHECK(options.threads > 0 && options.shards > 0, "bad options");
  PTT_CHECK(!(options.deterministic && options.reduction != Reduction::Buffers),
            "only the buffer reduction has a fixed combination order");
}

void DataParallel::check_finite(std::span<const float> values) {
  if (!DivergenceGuard::finite(values)) {
#pragma omp atomic write
    not_finite_ = 1;
  }
}

float DataParallel::batch_loss(std::span<const Range> shards, std::span<const float> weights) {
  // The batch loss is combined like the gradient: sum_k (n_k / n) loss_k, in shard order.
  float loss = 0.0f;
  correct_ = 0;
  for (std::size_t k = 0; k < shards.size(); ++k) {
    if (shards[k].size() == 0) continue;
    loss += weights[k] * stats_[k].loss;
    correct_ += stats_[k].correct;
  }
  return loss;
}

//! [guarded_update]
void DataParallel::finish_step(std::span<float> params, std::span<const float> grads, Optimizer* optimizer,
                               std::span<const Range> shards, std::span<const float> weights) {
  // Every thread has checked its part of the gradient before the barrier that precedes this
  // call; one thread adds the check of the loss, and decides for all.
#pragma omp single
  {
    loss_ = batch_loss(shards, weights);
    update_skipped_ = optimizer != nullptr && !(std::isfinite(loss_) && not_finite_ == 0);
    if (optimizer != nullptr && !update_skipped_) optimizer->begin_step();
  }  // implicit barrier: the decision, and begin_step(), before any update
  if (optimizer == nullptr || update_skipped_) return;  // the same branch on every thread
  const std::size_t P = grads.size();
  const std::size_t chunks = (P + kCombineChunk - 1) / kCombineChunk;
#pragma omp for schedule(static)
  for (std::size_t c = 0; c < chunks; ++c)
    optimizer->update_range(params, grads, c * kCombineChunk, std::min(P, (c + 1) * kCombineChunk));
}
//! [guarded_update]

class DataParallel::StepHooks final : public RegionHooks {
 public:
  StepHooks(DataParallel& dp, std::span<float> params, std::span<const float> grads, Optimizer* optimizer,
            PhaseTimer* timer, std::span<const Range> shards, std::span<const float> weights)
      : dp_(dp),
        params_(params),
        grads_(grads),
        optimizer_(optimizer),
        timer_(timer),
        shards_(shards),
        weights_(weights) {}

  void phase_done(Phase phase) override {
    if (timer_ == nullptr) return;
    timer_->add(phase, clock_.seconds());
    clock_.reset();
  }
  // The guard checks each chunk while it is still in the cache of the thread that combined it;
  // the check guards the update, and gradient() has none.
  void combined(std::size_t begin, std::size_t end) override {
    if (optimizer_ != nullptr) dp_.check_finite(grads_.subspan(begin, end - begin));
  }
  // The loss, the guard's decision and the update, in the same region: the same static schedule
  // over the same chunks gives every thread the chunks it has just combined.
  void region_end() override { dp_.finish_step(params_, grads_, optimizer_, shards_, weights_); }

  /// The time since the last phase ended (the update's, once the region is over).
  double since_last_phase() const { return clock_.seconds(); }

 private:
  DataParallel& dp_;
  std::span<float> params_;
  std::span<const float> grads_;
  Optimizer* optimizer_;
  PhaseTimer* timer_;
  std::span<const Range> shards_;
  std::span<const float> weights_;
  Stopwatch clock_;
};

float DataParallel::step(std::span<float> params, ConstMatrixRef x, std::span<const std::uint8_t> y,
                         std::span<float> grads, Optimizer* optimizer, PhaseTimer* timer) {
  if (options_.reduction == Reduction::Owner) return step_owner(params, x, y, grads, optimizer, timer);
  if (options_.reduction != Reduction::Buffers) return step_shared(params, x, y, grads, optimizer, timer);
  const std::vector<Range> shards = split_batch(static_cast<std::size_t>(x.rows()), shard_count());
  const std::vector<float> weights = shard_weights(shards);
  not_finite_ = 0;
  // [ch02] one parallel region: the shards' gradients into their own padded buffers, combined in
  // shard order, then (region_end) the guarded update.
  StepHooks hooks(*this, params, grads, optimizer, timer, shards, weights);
  parallel_gradient(layout_, params, ShardedBatch{x, y, shards, weights},
                    ShardMemory{buffers_, workspaces_, stats_}, grads, options_.threads, hooks);
  if (timer && optimizer != nullptr) timer->add(Phase::Update, hooks.since_last_phase());
  return loss_;
}

float DataParallel::step_shared(std::span<float> params, ConstMatrixRef x, std::span<const std::uint8_t> y,
                                std::span<float> grads, Optimizer* optimizer, PhaseTimer* timer) {
  const int K = shard_count();
  const std::vector<Range> shards = split_batch(static_cast<std::size_t>(x.rows()), K);
  const std::vector<float> weights = shard_weights(shards);
  const std::size_t P = grads.size();
  const std::size_t chunks = (P + kCombineChunk - 1) / kCombineChunk;
  const Reduction reduction = options_.reduction;
  const bool guard = optimizer != nullptr;  // the check guards the update; gradient() has none
  not_finite_ = 0;
  Stopwatch clock;
  std::fill(grads.begin(), grads.end(), 0.0f);

#pragma omp parallel num_threads(options_.threads)
  {
    // Forward: every shard against the same parameters, in its own workspace.
#pragma omp for schedule(static)
    for (int k = 0; k < K; ++k) {
      const Range s = shards[static_cast<std::size_t>(k)];
      if (s.size() == 0) continue;
      mlp_forward(layout_, params,
                  x.middleRows(static_cast<Eigen::Index>(s.begin), static_cast<Eigen::Index>(s.size())),
                  workspaces_[static_cast<std::size_t>(k)]);
    }  // implicit barrier
#pragma omp master
    if (timer) {
      timer->add(Phase::Forward, clock.seconds());
      clock.reset();
    }

    // Backward: shard k's mean gradient g_k into its own buffer, then added into the shared
    // buffer right away.
#pragma omp for schedule(static)
    for (int k = 0; k < K; ++k) {
      const auto ku = static_cast<std::size_t>(k);
      const Range s = shards[ku];
      if (s.size() == 0) continue;
      const auto labels = y.subspan(s.begin, s.size());
      stats_[ku].loss = mlp_backward(layout_, params, labels, workspaces_[ku], buffers_[ku]);
      stats_[ku].correct = count_correct(workspaces_[ku].logits(), labels);
      const float* gk = buffers_[ku].data();
      const float w = weights[ku];
      if (reduction == Reduction::Atomic) {
        for (std::size_t i = 0; i < P; ++i) {
#pragma omp atomic
          grads[i] += w * gk[i];
        }
      } else {
#pragma omp critical(ptt_ch02_shared_gradient)
        for (std::size_t i = 0; i < P; ++i) grads[i] += w * gk[i];
      }
    }  // implicit barrier
#pragma omp master
    if (timer) {
      timer->add(Phase::Backward, clock.seconds());
      clock.reset();
    }

    if (guard) {
      // The shared buffer is complete since the backward loop's barrier; the guard checks it in
      // the chunks each thread is about to update.
#pragma omp for schedule(static)
      for (std::size_t c = 0; c < chunks; ++c) {
        const std::size_t begin = c * kCombineChunk, end = std::min(P, begin + kCombineChunk);
        check_finite(grads.subspan(begin, end - begin));
      }  // implicit barrier
    }

    finish_step(params, grads, optimizer, shards, weights);
  }
  if (timer && optimizer != nullptr) timer->add(Phase::Update, clock.seconds());
  return loss_;
}

}  // namespace ptt::ch02
