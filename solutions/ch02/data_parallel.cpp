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
      buffers_(static_cast<std::size_t>(options.deterministic ? options.shards : options.threads),
               options.reduction == Reduction::Owner ? 0 : layout.size()),  // Owner needs no buffers
      workspaces_(buffers_.count()), stats_(buffers_.count()) {
  PTT_CHECK(options.threads > 0 && options.shards > 0, "bad options");
  PTT_CHECK(!(options.deterministic && options.reduction != Reduction::Buffers),
            "only the buffer reduction has a fixed combination order");
}

void DataParallel::parallel_update(std::span<float> params, std::span<const float> grads, Optimizer& optimizer) {
  const std::size_t P = grads.size();
  const std::size_t chunks = (P + kCombineChunk - 1) / kCombineChunk;
#pragma omp single
  optimizer.begin_step();  // implicit barrier: begin_step() happens before any update
#pragma omp for schedule(static)
  for (std::size_t c = 0; c < chunks; ++c)
    optimizer.update_range(params, grads, c * kCombineChunk, std::min(P, (c + 1) * kCombineChunk));
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

float DataParallel::step(std::span<float> params, ConstMatrixRef x, std::span<const std::uint8_t> y,
                         std::span<float> grads, Optimizer* optimizer, PhaseTimer* timer) {
  if (options_.reduction == Reduction::Owner) return step_owner(params, x, y, grads, optimizer, timer);
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
    if (optimizer != nullptr) parallel_update(params, grads, *optimizer);
  }
  if (timer && optimizer != nullptr) timer->add(Phase::Update, clock.seconds());

  return batch_loss(shards, weights);
}

float DataParallel::step_owner(std::span<float> params, ConstMatrixRef x, std::span<const std::uint8_t> y,
                               std::span<float> grads, Optimizer* optimizer, PhaseTimer* timer) {
  PTT_CHECK(x.cols() == layout_.inputs() && static_cast<std::size_t>(x.rows()) == y.size(), "batch shape mismatch");
  const int K = shard_count();
  const int L = layout_.num_layers();
  const std::vector<Range> shards = split_batch(static_cast<std::size_t>(x.rows()), K);
  const std::vector<float> weights = shard_weights(shards);
  shared_.resize(layout_, x.rows());  // acts[0] stays unused: layer 0 reads x itself
  auto input = [&](int l) -> ConstMatrixRef { return l == 0 ? x : ConstMatrixRef(shared_.acts[static_cast<std::size_t>(l)]); };
  auto rows = [](Matrix& m, const Range& r) {
    return m.middleRows(static_cast<Eigen::Index>(r.begin), static_cast<Eigen::Index>(r.size()));
  };
  Stopwatch clock;

#pragma omp parallel num_threads(options_.threads)
  {
    // Thread t owns the same block r_t of neurons (rows of W_l and b_l) forward and backward.
    const int t = omp_get_thread_num();
    const int T = omp_get_num_threads();
    auto owned = [&](const ConstLinearView& layer) {
      return shard_range(static_cast<std::size_t>(layer.W.rows()), t, T);
    };

    //! [owner_forward]
    // Forward: a_{l+1}[:, r_t] = relu(a_l W_l[r_t, :]^T + b_l[r_t]) for the WHOLE batch; one
    // barrier per layer, because every neuron of layer l+1 reads all of a_l.
    for (int l = 0; l < L; ++l) {
      const auto layer = linear_view(layout_, std::span<const float>(params), l);
      const Range r = owned(layer);
      if (r.size() > 0) {
        const auto r0 = static_cast<Eigen::Index>(r.begin), rn = static_cast<Eigen::Index>(r.size());
        auto out = shared_.acts[static_cast<std::size_t>(l) + 1].middleCols(r0, rn);
        linear_forward(input(l), layer.W.middleRows(r0, rn), layer.b.segment(r0, rn), out);
        if (l + 1 < L) relu_forward(out);
      }
#pragma omp barrier
    }
    //! [owner_forward]

    // The loss needs all logits of a sample: per shard. Its gradient is the shard mean (1/n_k);
    // times w_k = n_k / n it becomes its rows of the full-batch gradient (1/n), so no weighting
    // is left for later.
#pragma omp for schedule(static)
    for (int k = 0; k < K; ++k) {
      const auto ku = static_cast<std::size_t>(k);
      const Range s = shards[ku];
      if (s.size() == 0) continue;
      const auto labels = y.subspan(s.begin, s.size());
      auto top = rows(shared_.delta[static_cast<std::size_t>(L)], s);
      stats_[ku].loss = softmax_cross_entropy(rows(shared_.acts.back(), s), labels, top);
      stats_[ku].correct = count_correct(rows(shared_.acts.back(), s), labels);
      top *= weights[ku];
    }  // implicit barrier: every shard's delta_L is written
#pragma omp master
    if (timer) { timer->add(Phase::Forward, clock.seconds()); clock.reset(); }

    //! [owner_backward]
    for (int l = L - 1; l >= 0; --l) {
      const auto i = static_cast<std::size_t>(l);
      const auto layer = linear_view(layout_, std::span<const float>(params), l);
      auto grad = linear_view(layout_, grads, l);
      Matrix& dY = shared_.delta[i + 1];
      // The rows of dW_l and db_l this thread owns, over the whole batch.
      const Range r = owned(layer);
      if (r.size() > 0) {
        const auto r0 = static_cast<Eigen::Index>(r.begin), rn = static_cast<Eigen::Index>(r.size());
        linear_backward(input(l), layer.W.middleRows(r0, rn), dY.middleCols(r0, rn), grad.W.middleRows(r0, rn),
                        grad.b.segment(r0, rn), nullptr);
      }
      // delta_l for each shard's own rows (layer 0's input gradient is not needed).
      if (l > 0) {
#pragma omp for schedule(static)
        for (int k = 0; k < K; ++k) {
          const Range s = shards[static_cast<std::size_t>(k)];
          if (s.size() == 0) continue;
          auto dX = rows(shared_.delta[i], s);
          dX.noalias() = rows(dY, s) * layer.W;
          relu_backward(rows(shared_.acts[i], s), dX);
        }  // implicit barrier: delta_l is complete before layer l-1 reads it
      }
    }
    //! [owner_backward]
#pragma omp barrier
#pragma omp master
    if (timer) { timer->add(Phase::Backward, clock.seconds()); clock.reset(); }

    if (optimizer != nullptr) parallel_update(params, grads, *optimizer);
  }
  if (timer && optimizer != nullptr) timer->add(Phase::Update, clock.seconds());

  return batch_loss(shards, weights);
}

}  // namespace ptt::ch02
