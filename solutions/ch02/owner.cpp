// Chapter 02: --reduce owner, "owner computes" instead of "compute, then combine" (see
// DataParallel::step_owner in data_parallel.hpp for the math).
//
// Why not the core's layer-range primitives (forward_layers(), backward_layers())? They run
// WHOLE layers of one workspace, for a worker that holds whole layers (a pipeline stage). Here
// the unit of work is a block of neurons INSIDE each layer: thread t computes columns r_t of a
// layer's output over the whole batch, into a workspace the threads share, with a barrier
// between layers; and rows r_t of dW_l and db_l. Expressed with the primitives, each thread would
// need its own copy of its rows of W and b and would write its own workspace, to be copied back
// into the shared one: more memory traffic, for the same products. So owner calls the layer
// functions (linear_forward(), linear_backward(), relu_*) on blocks, as chapter 05's
// tensor-parallel layers do.
#include <omp.h>

#include "ch02/data_parallel.hpp"
#include "ptt/error.hpp"
#include "ptt/layers.hpp"
#include "ptt/metrics.hpp"

namespace ptt::ch02 {

float DataParallel::step_owner(std::span<float> params, ConstMatrixRef x, std::span<const std::uint8_t> y,
                               std::span<float> grads, Optimizer* optimizer, PhaseTimer* timer) {
  PTT_CHECK(x.cols() == layout_.inputs() && static_cast<std::size_t>(x.rows()) == y.size(),
            "batch shape mismatch");
  const int K = shard_count();
  const int L = layout_.num_layers();
  const std::vector<Range> shards = split_batch(static_cast<std::size_t>(x.rows()), K);
  const std::vector<float> weights = shard_weights(shards);
  const bool guard = optimizer != nullptr;  // the check guards the update; gradient() has none
  not_finite_ = 0;
  shared_.resize(layout_, x.rows());  // acts[0] stays unused: layer 0 reads x itself
  auto input = [&](int l) -> ConstMatrixRef {
    return l == 0 ? x : ConstMatrixRef(shared_.acts[static_cast<std::size_t>(l)]);
  };
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
    if (timer) {
      timer->add(Phase::Forward, clock.seconds());
      clock.reset();
    }

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
        auto dW = grad.W.middleRows(r0, rn);
        auto db = grad.b.segment(r0, rn);
        linear_backward(input(l), layer.W.middleRows(r0, rn), dY.middleCols(r0, rn), dW, db, nullptr);
        if (guard) {  // the guard, on the rows this thread just wrote (whole rows: contiguous)
          check_finite({dW.data(), static_cast<std::size_t>(dW.size())});
          check_finite({db.data(), static_cast<std::size_t>(db.size())});
        }
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
    if (timer) {
      timer->add(Phase::Backward, clock.seconds());
      clock.reset();
    }

    finish_step(params, grads, optimizer, shards, weights);
  }
  if (timer && optimizer != nullptr) timer->add(Phase::Update, clock.seconds());
  return loss_;
}

}  // namespace ptt::ch02
