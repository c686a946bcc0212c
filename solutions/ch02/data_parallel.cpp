// Chapter 02: the data-parallel step (see data_parallel.hpp for the math).
#include "data_parallel.hpp"

#include <omp.h>

#include <cstdlib>
#include <new>

#include "ptt/error.hpp"
#include "ptt/layers.hpp"
#include "ptt/metrics.hpp"

namespace ptt::ch02 {

void GradientBuffers::Free::operator()(float* p) const { std::free(p); }

GradientBuffers::GradientBuffers(std::size_t count, std::size_t length)
    : count_(count), length_(length),
      stride_((length + kLineFloats - 1) / kLineFloats * kLineFloats) {
  PTT_CHECK(count > 0, "need at least one buffer");
  const std::size_t bytes = std::max<std::size_t>(count_ * stride_ * sizeof(float), 64);
  data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
  if (!data_) throw std::bad_alloc();
}

DataParallel::DataParallel(const ParamLayout& layout, const Options& options)
    : layout_(layout), options_(options),
      buffers_(static_cast<std::size_t>(options.deterministic ? options.shards : options.threads), layout.size()),
      workspaces_(buffers_.count()), stats_(buffers_.count()) {
  PTT_CHECK(options.threads > 0 && options.shards > 0, "bad options");
}

float DataParallel::step(std::span<float> params, ConstMatrixRef x, std::span<const std::uint8_t> y,
                         std::span<float> grads, Optimizer* optimizer, PhaseTimer* timer) {
  const int K = shard_count();
  const std::vector<Range> shards = split_batch(static_cast<std::size_t>(x.rows()), K);
  const std::vector<float> weights = shard_weights(shards);
  const std::size_t P = grads.size();
  const std::size_t chunks = (P + kCombineChunk - 1) / kCombineChunk;
  const Reduction reduction = options_.reduction;
  Stopwatch clock;
  if (reduction != Reduction::Buffers) std::fill(grads.begin(), grads.end(), 0.0f);

#pragma omp parallel num_threads(options_.threads)
  {
    // Forward: every shard against the same parameters, in its own workspace.
    // schedule(static) gives thread t shard t in fast mode (K = threads).
#pragma omp for schedule(static)
    for (int k = 0; k < K; ++k) {
      const Range s = shards[static_cast<std::size_t>(k)];
      if (s.size() == 0) continue;
      mlp_forward(layout_, params, x.middleRows(static_cast<Eigen::Index>(s.begin), static_cast<Eigen::Index>(s.size())),
                  workspaces_[static_cast<std::size_t>(k)]);
    }  // implicit barrier
#pragma omp master
    if (timer) { timer->add(Phase::Forward, clock.seconds()); clock.reset(); }

    // Backward: shard k's mean gradient g_k into its own buffer, then (naive reductions only)
    // added into the shared buffer right away.
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
      } else if (reduction == Reduction::Critical) {
#pragma omp critical(ptt_ch02_shared_gradient)
        for (std::size_t i = 0; i < P; ++i) grads[i] += w * gk[i];
      }
    }  // implicit barrier
#pragma omp master
    if (timer) { timer->add(Phase::Backward, clock.seconds()); clock.reset(); }

    // Reduce: g = sum_k w_k g_k, in parallel over fixed-size chunks of the parameters.
    if (reduction == Reduction::Buffers) {
#pragma omp for schedule(static)
      for (std::size_t c = 0; c < chunks; ++c)
        combine_range(buffers_, weights, grads, c * kCombineChunk, std::min(P, (c + 1) * kCombineChunk));
    }
#pragma omp master
    if (timer) { timer->add(Phase::Reduce, clock.seconds()); clock.reset(); }

    // Update: the same static schedule over the same chunks gives every thread the chunks it just
    // combined, still in its cache. (No barrier is needed before it for that reason, but the
    // timing above wants one; the implicit barrier of the loop above provides it.)
    if (optimizer != nullptr) {
#pragma omp single
      optimizer->begin_step();  // implicit barrier: begin_step() happens before any update
#pragma omp for schedule(static)
      for (std::size_t c = 0; c < chunks; ++c)
        optimizer->update_range(params, grads, c * kCombineChunk, std::min(P, (c + 1) * kCombineChunk));
    }
  }
  if (timer && optimizer != nullptr) timer->add(Phase::Update, clock.seconds());

  // The batch loss is combined like the gradient: sum_k (n_k / n) loss_k, in shard order.
  float loss = 0.0f;
  correct_ = 0;
  for (int k = 0; k < K; ++k) {
    const auto ku = static_cast<std::size_t>(k);
    if (shards[ku].size() == 0) continue;
    loss += weights[ku] * stats_[ku].loss;
    correct_ += stats_[ku].correct;
  }
  return loss;
}

}  // namespace ptt::ch02
