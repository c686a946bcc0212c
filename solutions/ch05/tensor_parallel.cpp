#include "ch05/tensor_parallel.hpp"

#include "ch05/channel.hpp"
#include "ptt/error.hpp"
#include "ptt/layers.hpp"

namespace ptt::ch05 {

std::vector<Split> tensor_parallel_splits(const ParamLayout& full) {
  const int L = full.num_layers();
  std::vector<Split> splits(static_cast<std::size_t>(L), Split::Replicated);
  for (int l = 0; l + 1 < L; l += 2) {
    splits[static_cast<std::size_t>(l)] = Split::Columns;
    splits[static_cast<std::size_t>(l) + 1] = Split::Rows;
  }
  return splits;
}

namespace {
/// The shard's widths: a column-split layer's outputs divided by the worker count.
std::vector<int> shard_sizes(const ParamLayout& full, const std::vector<Split>& splits, int workers) {
  std::vector<int> sizes = full.sizes();
  for (int l = 0; l < full.num_layers(); ++l) {
    if (splits[static_cast<std::size_t>(l)] != Split::Columns) continue;
    const int width = full.layer(l).out;
    require_input(width % workers == 0, "--tp " + std::to_string(workers) + ": does not divide layer " +
                                            std::to_string(l + 1) + "'s width " + std::to_string(width) +
                                            " (the hidden widths must be multiples of --tp)");
    sizes[static_cast<std::size_t>(l) + 1] = width / workers;
  }
  return sizes;
}
}  // namespace

TensorParallelMlp::TensorParallelMlp(const ParamLayout& full, int workers, bool trace)
    : ModelParallel(full, workers, trace), splits_(tensor_parallel_splits(full)) {
  require_input(workers >= 1, "--tp: must be at least 1, got " + std::to_string(workers));
  const std::vector<int> sizes = shard_sizes(full, splits_, workers);
  for (int k = 0; k < workers; ++k) {
    Worker& w = workers_.emplace_back(sizes);
    w.params.assign(w.layout.size(), 0.0f);
    w.grads.assign(w.layout.size(), 0.0f);
    w.to_full.resize(w.params.size());
    for (int l = 0; l < full.num_layers(); ++l) {
      const LayerSlot& f = full.layer(l);
      const LayerSlot& s = w.layout.layer(l);
      const Split split = splits_[static_cast<std::size_t>(l)];
      // Where this worker's rows (Columns split) or columns (Rows split) start in the full W.
      const std::size_t row0 = split == Split::Columns ? static_cast<std::size_t>(k * s.out) : 0;
      const std::size_t col0 = split == Split::Rows ? static_cast<std::size_t>(k * s.in) : 0;
      for (std::size_t r = 0; r < static_cast<std::size_t>(s.out); ++r) {
        for (std::size_t c = 0; c < static_cast<std::size_t>(s.in); ++c)
          w.to_full[s.weight + r * static_cast<std::size_t>(s.in) + c] =
              f.weight + (row0 + r) * static_cast<std::size_t>(f.in) + col0 + c;
        w.to_full[s.bias + r] = f.bias + row0 + r;
      }
    }
  }
  ws_.resize(static_cast<std::size_t>(workers));
}

float TensorParallelMlp::forward_backward(ConstMatrixRef X, std::span<const std::uint8_t> labels) {
  PTT_CHECK(static_cast<Eigen::Index>(labels.size()) == X.rows(), "labels do not match the batch");
  const int p = num_workers();
  const long step = ++step_;
  // links[from * p + to]: one channel per ordered pair of workers, so messages between two
  // workers keep their order (like MPI point-to-point on one communicator).
  std::vector<Channel<Matrix>> links(static_cast<std::size_t>(p * p));
  std::vector<float> losses(static_cast<std::size_t>(p), 0.0f);
  auto stop_all = [&](const std::string& why) {
    for (auto& c : links) c.close(why);
  };

  auto worker_thread = [&](int k) {
    const auto wk = static_cast<std::size_t>(k);
    Worker& w = workers_[wk];
    Workspace& ws = ws_[wk];
    const int L = w.layout.num_layers();
    const std::string name = "tp worker " + std::to_string(k);
    // All-reduce (sum) of M over the workers: send my part to everyone, receive theirs, and add
    // them up in worker order 0, 1, ..., p-1 — the same order everywhere, so every worker ends
    // with the same bits. (p-1 sends and receives per worker: simple, not bandwidth-optimal;
    // chapter 03's ring is.)
    auto all_reduce = [&](Matrix& M, int layer) {
      const double t0 = timeline_.now_us();
      for (int to = 0; to < p; ++to)
        if (to != k) links[static_cast<std::size_t>(k * p + to)].send(M);
      Matrix sum;
      for (int from = 0; from < p; ++from) {
        Matrix part = from == k ? M
                                : links[static_cast<std::size_t>(from * p + k)].recv(
                                      timeout_, name + ": partial sum of layer " + std::to_string(layer + 1) +
                                                    " from worker " + std::to_string(from));
        if (from == 0)
          sum = std::move(part);
        else
          sum += part;
      }
      M = std::move(sum);
      timeline_.record({k, layer, OpKind::AllReduce, step, t0, timeline_.now_us()});
    };
    // Forward.
    ws.resize(w.layout, X.rows());
    ws.acts[0] = X;  // every worker reads the whole (replicated) input
    for (int l = 0; l < L; ++l) {
      const auto i = static_cast<std::size_t>(l);
      const double t0 = timeline_.now_us();
      //! [row_parallel_forward]
      if (splits_[i] == Split::Rows) {
        const auto layer = linear_view(w.layout, std::span<const float>(w.params), l);
        Matrix& out = ws.acts[i + 1];
        out.noalias() = ws.acts[i] * layer.W.transpose();  // my partial product P_k
        timeline_.record({k, l, OpKind::Forward, step, t0, timeline_.now_us()});
        all_reduce(out, l);                    // Z = sum_k P_k
        out.rowwise() += layer.b.transpose();  // the bias once, after the sum
        if (l + 1 < L) relu_forward(out);
      } else {
        forward_layers(w.layout, w.params, l, l + 1, ws, l + 1 < L);  // Columns: my slice; Replicated: all
        timeline_.record({k, l, OpKind::Forward, step, t0, timeline_.now_us()});
      }
      //! [row_parallel_forward]
    }
    // Loss: the logits are replicated, so every worker computes the same loss and gradient.
    const auto top = static_cast<std::size_t>(L);
    losses[wk] = softmax_cross_entropy(ws.acts[top], labels, ws.delta[top]);
    // Backward, one layer at a time: a layer's input gradient may need an all-reduce before the
    // ReLU below it.
    for (int l = L - 1; l >= 0; --l) {
      const auto i = static_cast<std::size_t>(l);
      const double t0 = timeline_.now_us();
      // dW, db, and dX for every layer but the first (nobody needs the network's input gradient).
      backward_layers(w.layout, w.params, l, l + 1, ws, w.grads, {.accumulate = false, .input_grad = l > 0});
      timeline_.record({k, l, OpKind::Backward, step, t0, timeline_.now_us()});
      if (l == 0) break;
      // Columns: dX is my partial sum over my output slice -> all-reduce. Rows: dX is my slice
      // of the input's gradient, exactly -> nothing to send. Replicated: already whole.
      if (splits_[i] == Split::Columns) all_reduce(ws.delta[i], l);
      relu_backward(ws.acts[i], ws.delta[i]);
    }
  };
  run_workers(pool_, "tp worker", worker_thread, stop_all);
  logits_ = ws_.front().acts.back();
  return losses.front();
}

}  // namespace ptt::ch05
