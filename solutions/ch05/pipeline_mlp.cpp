// The MLP as pipeline stages (see pipeline_mlp.hpp): what one stage does with a micro-batch, then
// the split of chapter 01's model into stages and one mini-batch through the engine.
#include "ch05/pipeline_mlp.hpp"

#include <algorithm>

#include "ch05/microbatches.hpp"
#include "ch05/partition.hpp"
#include "ptt/error.hpp"
#include "ptt/layers.hpp"

namespace ptt::ch05 {

/// Layers [first, last) of the MLP: forward keeps each micro-batch's activations until its
/// backward; backward adds the micro-batch's gradient into the stage's gradient buffer (zeroed
/// at the start of the mini-batch).
class PipelineMlp::MlpStage final : public StageWork {
 public:
  MlpStage(Worker& w, bool first, bool last) : w_(w), first_(first), last_(last) {}

  /// Set before each mini-batch: its data (stage 0), labels (last stage) and micro-batch split.
  void start_batch(const ConstMatrixRef& X, std::span<const std::uint8_t> labels, int micro, Matrix* logits) {
    X_ = &X;
    labels_ = labels;
    // The idea of TODO(05.3): the micro-batches' rows and the weights of their gradients.
    parts_ = split_microbatches(static_cast<std::size_t>(X.rows()), micro);
    logits_ = logits;
    loss_ = 0.0f;
    if (ws_.size() < static_cast<std::size_t>(micro)) ws_.resize(static_cast<std::size_t>(micro));
    std::fill(w_.grads.begin(), w_.grads.end(), 0.0f);
  }

  Matrix forward(int j, Matrix input) override {
    const MicroBatch& r = parts_.at(static_cast<std::size_t>(j));
    PTT_CHECK(r.begin <= r.end && r.end <= static_cast<std::size_t>(X_->rows()),
              "micro-batch " + std::to_string(j) + " holds rows outside the mini-batch");
    const auto rows = static_cast<Eigen::Index>(r.size());
    Workspace& ws = ws_[static_cast<std::size_t>(j)];
    ws.resize(w_.layout, rows);
    if (first_)
      ws.acts[0] = X_->middleRows(static_cast<Eigen::Index>(r.begin), rows);
    else
      ws.acts[0] = std::move(input);
    const int L = w_.layout.num_layers();
    // ReLU after every layer of the stage, its last one too unless it is the network's last
    // (whose outputs are the logits).
    forward_layers(w_.layout, w_.params, 0, L, ws, /*relu_after_last=*/!last_);
    if (!last_) return ws.acts.back();  // a copy: the message; the stage keeps its own for backward
    // The last stage turns logits into the loss. softmax_cross_entropy gives the mean over the
    // n_j rows; weighted by n_j / B (r.weight), the micro-batches add up to the mean over the
    // whole batch. An empty micro-batch (only a wrong cut makes one here: the pipeline runs
    // min(m, B) of them) adds nothing, not the NaN of a mean over no rows.
    logits_->middleRows(static_cast<Eigen::Index>(r.begin), rows) = ws.acts.back();
    auto& dlogits = ws.delta[static_cast<std::size_t>(L)];
    if (rows == 0) return {};
    const float loss = softmax_cross_entropy(ws.acts.back(), labels_.subspan(r.begin, r.size()), dlogits);
    const auto weight = static_cast<float>(r.weight);
    dlogits *= weight;
    loss_ += loss * weight;
    return {};
  }

  Matrix backward(int j, Matrix grad_output) override {
    Workspace& ws = ws_[static_cast<std::size_t>(j)];
    const int L = w_.layout.num_layers();
    const auto top = static_cast<std::size_t>(L);
    if (!last_) {  // dL/d(output) arrives from the next stage; our output went through ReLU
      ws.delta[top] = std::move(grad_output);
      relu_backward(ws.acts[top], ws.delta[top]);
    }
    // accumulate: this micro-batch's gradient is ADDED to the earlier ones' (inside the matrix
    // product, at no extra cost); input_grad: dL/d(our input), for the previous stage.
    backward_layers(w_.layout, w_.params, 0, L, ws, w_.grads, {.accumulate = true, .input_grad = !first_});
    if (first_) return {};
    return std::move(ws.delta[0]);
  }

  float loss() const { return loss_; }
  /// Floats of activations one micro-batch of @p rows rows keeps on this stage.
  std::size_t floats_per_micro(Eigen::Index rows) const {
    std::size_t n = static_cast<std::size_t>(w_.layout.inputs());
    for (int l = 0; l < w_.layout.num_layers(); ++l) n += static_cast<std::size_t>(w_.layout.layer(l).out);
    return n * static_cast<std::size_t>(rows);
  }

 private:
  Worker& w_;
  bool first_, last_;
  std::vector<Workspace> ws_;  // activations per micro-batch, held from F j to B j
  const ConstMatrixRef* X_ = nullptr;
  std::span<const std::uint8_t> labels_;
  std::vector<MicroBatch> parts_;  // this mini-batch's micro-batches (contracts/ch05/microbatches.hpp)
  Matrix* logits_ = nullptr;
  float loss_ = 0.0f;
};

PipelineMlp::PipelineMlp(const ParamLayout& full, int stages, int micro, Schedule schedule, bool trace)
    : ModelParallel(full, stages, trace), micro_(micro), schedule_(schedule) {
  const std::vector<int> bounds = partition_layers(full, stages);
  require_input(micro >= 1, "--microbatches: must be at least 1, got " + std::to_string(micro));
  const auto& sizes = full.sizes();
  workers_.reserve(static_cast<std::size_t>(stages));
  for (int s = 0; s < stages; ++s) {
    const int a = bounds[static_cast<std::size_t>(s)], b = bounds[static_cast<std::size_t>(s) + 1];
    // Stage s is itself an MLP with widths sizes[a..b]; its parameters are one contiguous slice
    // of chapter 01's buffer (layers are stored one after another).
    Worker& w = workers_.emplace_back(std::vector<int>(sizes.begin() + a, sizes.begin() + b + 1));
    w.params.assign(w.layout.size(), 0.0f);
    w.grads.assign(w.layout.size(), 0.0f);
    const std::size_t offset = full.layer(a).weight;
    for (std::size_t i = 0; i < w.params.size(); ++i) w.to_full.push_back(offset + i);
  }
  for (int s = 0; s < stages; ++s)
    stages_.push_back(
        std::make_unique<MlpStage>(workers_[static_cast<std::size_t>(s)], s == 0, s + 1 == stages));
}

PipelineMlp::~PipelineMlp() = default;

float PipelineMlp::forward_backward(ConstMatrixRef X, std::span<const std::uint8_t> labels) {
  PTT_CHECK(static_cast<Eigen::Index>(labels.size()) == X.rows(), "labels do not match the batch");
  const int m = static_cast<int>(std::min<Eigen::Index>(micro_, X.rows()));  // a short last batch
  logits_.resize(X.rows(), workers_.back().layout.outputs());
  for (auto& stage : stages_) stage->start_batch(X, labels, m, &logits_);
  std::vector<StageWork*> work;
  for (auto& stage : stages_) work.push_back(stage.get());
  last_run_ = run_pipeline(pool_, work, m, schedule_, timeline_, ++step_, timeout_);
  return stages_.back()->loss();
}

std::vector<std::size_t> PipelineMlp::peak_stored_floats() const {
  std::vector<std::size_t> out;
  for (std::size_t s = 0; s < stages_.size(); ++s)
    out.push_back(static_cast<std::size_t>(last_run_.peak_stored.at(s)) *
                  stages_[s]->floats_per_micro((logits_.rows() + micro_ - 1) / micro_));
  return out;
}

}  // namespace ptt::ch05
