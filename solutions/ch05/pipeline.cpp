#include "pipeline.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "channel.hpp"
#include "ptt/data.hpp"
#include "ptt/error.hpp"
#include "ptt/layers.hpp"

namespace ptt::ch05 {

Schedule parse_schedule(const std::string& name) {
  if (name == "gpipe") return Schedule::GPipe;
  if (name == "1f1b") return Schedule::OneFOneB;
  throw InputError("--schedule: unknown schedule '" + name + "' (use gpipe or 1f1b)");
}

std::string schedule_name(Schedule s) { return s == Schedule::GPipe ? "gpipe" : "1f1b"; }

std::vector<Op> make_schedule(Schedule s, int stage, int stages, int micro) {
  return s == Schedule::GPipe ? gpipe_schedule(stage, stages, micro)
                              : one_f_one_b_schedule(stage, stages, micro);
}

std::string to_string(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& op : ops) {
    if (!out.empty()) out += ' ';
    out += op.forward ? 'F' : 'B';
    out += std::to_string(op.micro);
  }
  return out;
}

void validate_schedule(const std::vector<Op>& ops, int micro) {
  std::vector<int> forwards(static_cast<std::size_t>(micro), 0),
      backwards(static_cast<std::size_t>(micro), 0);
  for (const Op& op : ops) {
    if (op.micro < 0 || op.micro >= micro)
      throw std::logic_error("schedule names micro-batch " + std::to_string(op.micro) + " of " +
                             std::to_string(micro));
    const auto j = static_cast<std::size_t>(op.micro);
    if (op.forward) {
      if (++forwards[j] > 1) throw std::logic_error("schedule runs F" + std::to_string(op.micro) + " twice");
    } else {
      if (forwards[j] == 0)
        throw std::logic_error("schedule runs B" + std::to_string(op.micro) + " before F" +
                               std::to_string(op.micro));
      if (++backwards[j] > 1) throw std::logic_error("schedule runs B" + std::to_string(op.micro) + " twice");
    }
  }
  for (int j = 0; j < micro; ++j)
    if (backwards[static_cast<std::size_t>(j)] == 0)
      throw std::logic_error("schedule never runs B" + std::to_string(j) + " (" + to_string(ops) + ")");
}

namespace {
/// A message between stages: which micro-batch, and the matrix.
struct Message {
  int micro = 0;
  Matrix data;
};

/// @brief Receives the next message of @p link, which must belong to micro-batch @p micro:
/// channels keep their order, so any other micro-batch means the schedule is wrong.
/// @param link    the channel to read.
/// @param micro   the micro-batch the schedule expects next.
/// @param timeout how long to wait before giving up.
/// @param who     the receiving stage, for messages ("stage 1").
/// @param what    what the message carries ("activations", "gradients").
/// @return the message's matrix.
Matrix receive(Channel<Message>& link, int micro, std::chrono::milliseconds timeout, const std::string& who,
               const std::string& what) {
  const std::string tag = what + " of micro-batch " + std::to_string(micro);
  Message m = link.recv(timeout, who + ": " + tag);
  if (m.micro != micro)
    throw std::logic_error(who + " expected the " + tag + ", got " + std::to_string(m.micro));
  return std::move(m.data);
}
}  // namespace

PipelineRun run_pipeline(std::span<StageWork* const> stages, int micro, Schedule schedule, Timeline& timeline,
                         long step, std::chrono::milliseconds timeout) {
  const int p = static_cast<int>(stages.size());
  PTT_CHECK(p >= 1 && micro >= 1, "run_pipeline needs at least one stage and one micro-batch");
  std::vector<std::vector<Op>> orders;
  for (int s = 0; s < p; ++s) {
    orders.push_back(make_schedule(schedule, s, p, micro));
    validate_schedule(orders.back(), micro);  // a malformed order fails here, not as a hang
  }
  // down[s]: stage s -> s+1 (activations); up[s]: stage s+1 -> s (gradients).
  std::vector<Channel<Message>> down(static_cast<std::size_t>(p)), up(static_cast<std::size_t>(p));
  PipelineRun run;
  run.peak_stored.assign(static_cast<std::size_t>(p), 0);
  auto stop_all = [&](const std::string& why) {
    for (auto& c : down) c.close(why);
    for (auto& c : up) c.close(why);
  };

  auto stage_thread = [&](int s) {
    const auto i = static_cast<std::size_t>(s);
    const std::string name = "stage " + std::to_string(s);
    int stored = 0;  // micro-batches whose activations this stage holds
    for (const Op& op : orders[i]) {
      if (op.forward) {
        Matrix input;
        if (s > 0) input = receive(down[i - 1], op.micro, timeout, name, "activations");
        const double t0 = timeline.now_us();
        Matrix out = stages[i]->forward(op.micro, std::move(input));
        timeline.record({s, op.micro, OpKind::Forward, step, t0, timeline.now_us()});
        run.peak_stored[i] = std::max(run.peak_stored[i], ++stored);
        if (s + 1 < p) down[i].send({op.micro, std::move(out)});
      } else {
        Matrix grad;
        if (s + 1 < p) grad = receive(up[i], op.micro, timeout, name, "gradients");
        const double t0 = timeline.now_us();
        Matrix dx = stages[i]->backward(op.micro, std::move(grad));
        timeline.record({s, op.micro, OpKind::Backward, step, t0, timeline.now_us()});
        --stored;
        if (s > 0) up[i - 1].send({op.micro, std::move(dx)});
      }
    }
  };
  run_workers(p, "stage", stage_thread, stop_all);
  return run;
}

std::vector<int> partition_layers(const ParamLayout& layout, int stages) {
  const int L = layout.num_layers();
  require_input(stages >= 1, "--pp: must be at least 1, got " + std::to_string(stages));
  require_input(stages <= L,
                "--pp " + std::to_string(stages) + ": the MLP has only " + std::to_string(L) +
                    " layers, and each stage needs at least one (add hidden layers with --hidden)");
  // best[k][l]: the smallest possible largest-stage cost splitting the first l layers into k stages.
  std::vector<double> prefix(static_cast<std::size_t>(L) + 1, 0.0);
  for (int l = 0; l < L; ++l) {
    const auto& slot = layout.layer(l);
    prefix[static_cast<std::size_t>(l) + 1] =
        prefix[static_cast<std::size_t>(l)] + double(slot.in) * double(slot.out);
  }
  const double inf = std::numeric_limits<double>::infinity();
  const auto P = static_cast<std::size_t>(stages), N = static_cast<std::size_t>(L);
  std::vector<std::vector<double>> best(P + 1, std::vector<double>(N + 1, inf));
  std::vector<std::vector<int>> cut(P + 1, std::vector<int>(N + 1, 0));
  best[0][0] = 0.0;
  for (std::size_t k = 1; k <= P; ++k)
    for (std::size_t l = k; l <= N; ++l)
      for (std::size_t c = k - 1; c < l; ++c) {  // the last stage holds layers [c, l)
        const double cost = std::max(best[k - 1][c], prefix[l] - prefix[c]);
        if (cost < best[k][l]) {
          best[k][l] = cost;
          cut[k][l] = static_cast<int>(c);
        }
      }
  std::vector<int> bounds(P + 1);
  bounds[P] = L;
  for (std::size_t k = P; k >= 1; --k) bounds[k - 1] = cut[k][static_cast<std::size_t>(bounds[k])];
  return bounds;
}

// ---------------------------------------------------------------------------------------------
// The MLP's stages.

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
    micro_ = micro;
    logits_ = logits;
    loss_ = 0.0f;
    if (ws_.size() < static_cast<std::size_t>(micro)) ws_.resize(static_cast<std::size_t>(micro));
    std::fill(w_.grads.begin(), w_.grads.end(), 0.0f);
  }

  Matrix forward(int j, Matrix input) override {
    const Range r = shard_range(static_cast<std::size_t>(X_->rows()), j, micro_);
    const auto rows = static_cast<Eigen::Index>(r.end - r.begin);
    Workspace& ws = ws_[static_cast<std::size_t>(j)];
    ws.resize(w_.layout, rows);
    if (first_)
      ws.acts[0] = X_->middleRows(static_cast<Eigen::Index>(r.begin), rows);
    else
      ws.acts[0] = std::move(input);
    const int L = w_.layout.num_layers();
    for (int l = 0; l < L; ++l) {
      const auto layer = linear_view(w_.layout, std::span<const float>(w_.params), l);
      auto& out = ws.acts[static_cast<std::size_t>(l) + 1];
      linear_forward(ws.acts[static_cast<std::size_t>(l)], layer.W, layer.b, out);
      if (!(last_ && l + 1 == L)) relu_forward(out);  // ReLU after every layer but the network's last
    }
    if (!last_) return ws.acts.back();  // a copy: the message; the stage keeps its own for backward
    // The last stage turns logits into the loss. softmax_cross_entropy gives the mean over the
    // n_j rows; weighted by n_j / B, the micro-batches add up to the mean over the whole batch.
    logits_->middleRows(static_cast<Eigen::Index>(r.begin), rows) = ws.acts.back();
    auto& dlogits = ws.delta[static_cast<std::size_t>(L)];
    const float loss =
        softmax_cross_entropy(ws.acts.back(), labels_.subspan(r.begin, r.end - r.begin), dlogits);
    const float weight = static_cast<float>(rows) / static_cast<float>(X_->rows());
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
    for (int l = L - 1; l >= 0; --l) {
      const auto i = static_cast<std::size_t>(l);
      const auto layer = linear_view(w_.layout, std::span<const float>(w_.params), l);
      auto grad = linear_view(w_.layout, std::span<float>(w_.grads), l);
      const Matrix& dY = ws.delta[i + 1];
      // linear_backward's dW and db, ADDED to the gradient of the earlier micro-batches: the
      // accumulation over micro-batches costs nothing extra inside the matrix product.
      grad.W.noalias() += dY.transpose() * ws.acts[i];
      for (Eigen::Index r = 0; r < dY.rows(); ++r) grad.b += dY.row(r).transpose();
      if (l == 0 && first_) break;                        // nobody needs the network's input gradient
      ws.delta[i].noalias() = dY * layer.W;               // dX, for the layer below or the previous stage
      if (l > 0) relu_backward(ws.acts[i], ws.delta[i]);  // the stage input's ReLU is the previous stage's
    }
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
  int micro_ = 1;
  Matrix* logits_ = nullptr;
  float loss_ = 0.0f;
};

PipelineMlp::PipelineMlp(const ParamLayout& full, int stages, int micro, Schedule schedule, bool trace)
    : ModelParallel(full, stages, trace),
      micro_(micro),
      schedule_(schedule),
      bounds_(partition_layers(full, stages)) {
  require_input(micro >= 1, "--microbatches: must be at least 1, got " + std::to_string(micro));
  const auto& sizes = full.sizes();
  workers_.reserve(static_cast<std::size_t>(stages));
  for (int s = 0; s < stages; ++s) {
    const int a = bounds_[static_cast<std::size_t>(s)], b = bounds_[static_cast<std::size_t>(s) + 1];
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
  last_run_ = run_pipeline(work, m, schedule_, timeline_, ++step_, timeout_);
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
