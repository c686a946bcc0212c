// solutions/ch06/hybrid_model.cpp — see hybrid_model.hpp.
#include "ch06/hybrid_model.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "ch03/mpi_runtime.hpp"
#include "ch06/row_parallel.hpp"
#include "ch06/zero.hpp"
#include "ptt/error.hpp"
#include "ptt/layers.hpp"
#include "ptt/metrics.hpp"
#include "ptt/resume.hpp"

namespace ptt::ch06 {

namespace {
constexpr std::size_t kFloat = sizeof(float);

int comm_size(MPI_Comm comm) {
  int n = 1;
  PTT_MPI_CHECK(MPI_Comm_size(comm, &n));
  return n;
}
int comm_rank(MPI_Comm comm) {
  int r = 0;
  PTT_MPI_CHECK(MPI_Comm_rank(comm, &r));
  return r;
}

const Options& checked(const Options& o, const ParamLayout& full, MPI_Comm world) {
  const int ranks = comm_size(world);
  const Grid& g = o.grid;
  require_input(g.size() == ranks,
                "--dp x --pp x --tp = " + std::to_string(g.dp) + " x " + std::to_string(g.pp) + " x " +
                    std::to_string(g.tp) + " = " + std::to_string(g.size()) + " ranks, but the job has " +
                    std::to_string(ranks) + " (mpiexec -n " + std::to_string(g.size()) + ")");
  require_input(o.microbatches >= 1, "--microbatches: must be at least 1");
  require_input(o.zero == 0 || o.zero == 1, "--zero: 0 or 1");
  (void)stage_boundaries(full, g.pp, g.tp);  // the model must split so
  return o;
}

// The part of the buffer a rank updates: its ZeRO-1 shard, or all of it.
Range update_range(std::size_t n, const Options& o, const Coords& c) {
  return o.zero == 1 ? zero_shard(n, c.dp, o.grid.dp) : Range{0, n};
}

int optimizer_arrays(const std::string& name) { return name == "adam" ? 2 : 1; }

// Stored activations of one micro-batch of `rows` rows: every layer's input and the last output.
std::size_t activation_floats(const ParamLayout& layout, std::size_t rows) {
  std::size_t widths = 0;
  for (int w : layout.sizes()) widths += std::size_t(w);
  return rows * widths;
}
}  // namespace

struct HybridModel::Slot {
  Workspace ws;
  std::vector<std::uint8_t> labels;
  std::vector<MPI_Request> sends;  // Isends still reading ws (waited before it is reused)
  std::size_t floats = 0;
  void wait() {
    if (!sends.empty())
      PTT_MPI_CHECK(MPI_Waitall(static_cast<int>(sends.size()), sends.data(), MPI_STATUSES_IGNORE));
    sends.clear();
  }
};

HybridModel::HybridModel(const ParamLayout& full, const Options& options, MPI_Comm world)
    : full_(full),
      options_(checked(options, full, world)),
      world_(world),
      rank_(comm_rank(world)),
      coords_(grid_coords(options_.grid, rank_)),
      groups_(split_groups(options_.grid, world)),
      shard_(make_rank_shard(full, options_.grid, coords_)),
      params_(shard_.layout.size(), 0.0f),
      grads_(shard_.layout.size(), 0.0f),
      zero_shard_(update_range(params_.size(), options_, coords_)),
      buckets_(shard_.layout, options_.bucket_bytes, groups_.dp) {
  if (options_.zero == 1) shard_grads_.assign(zero_shard_.size(), 0.0f);
}

HybridModel::~HybridModel() {
  for (auto& s : slots_) s->wait();
  free_groups(groups_);
}

void HybridModel::make_optimizer(const std::string& name, double lr, double momentum) {
  optimizer_ = ptt::make_optimizer(name, zero_shard_.size(), lr, momentum);
}

std::size_t HybridModel::full_optimizer_size() const {
  return std::size_t(optimizer_arrays(optimizer_->name())) * full_.size();
}

void HybridModel::load_params(std::span<const float> full) {
  PTT_CHECK(full.size() == full_.size(), "load_params: not the model's buffer");
  for (std::size_t i = 0; i < params_.size(); ++i) params_[i] = full[shard_.to_full[i]];
}

void HybridModel::load_optimizer(std::span<const float> full, long optimizer_steps) {
  const std::span<float> state = optimizer_->state();
  const std::size_t k = std::size_t(optimizer_arrays(optimizer_->name())), S = zero_shard_.size();
  PTT_CHECK(full.size() == k * full_.size() && state.size() == k * S, "load_optimizer: sizes differ");
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t i = 0; i < S; ++i)
      state[a * S + i] = full[a * full_.size() + shard_.to_full[zero_shard_.begin + i]];
  optimizer_->set_steps_taken(optimizer_steps);
}

// Rank 0 receives every rank's values (k arrays over its whole part, or with @p sharded over the
// part it updates: its ZeRO-1 shard) and puts each float where chapter 01's layout has it. Rank 0 knows every
// rank's part because it is a pure function of the grid (rank_shard.hpp). Replicated floats arrive from
// several ranks with the same value.
template <class Values>
void HybridModel::gather_to_root(std::span<float> full, std::size_t k, bool sharded, Values&& local) const {
  const std::vector<float> mine = local();
  const int ranks = comm_size(world_);
  std::vector<int> counts(static_cast<std::size_t>(ranks)), displs(static_cast<std::size_t>(ranks));
  const int my_count = static_cast<int>(mine.size());
  PTT_MPI_CHECK(MPI_Gather(&my_count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, world_));
  std::vector<float> all;
  if (rank_ == 0) {
    for (int r = 1; r < ranks; ++r)
      displs[std::size_t(r)] = displs[std::size_t(r) - 1] + counts[std::size_t(r) - 1];
    all.resize(std::size_t(displs.back() + counts.back()));
  }
  PTT_MPI_CHECK(MPI_Gatherv(mine.data(), my_count, MPI_FLOAT, all.data(), counts.data(), displs.data(),
                            MPI_FLOAT, 0, world_));
  if (rank_ != 0) return;
  PTT_CHECK(full.size() == k * full_.size(), "gather: not a buffer of the model's layout");
  for (int r = 0; r < ranks; ++r) {
    const Coords c = grid_coords(options_.grid, r);
    const RankShard part = make_rank_shard(full_, options_.grid, c);
    const std::size_t n_local = part.layout.size();
    const Range range = sharded ? update_range(n_local, options_, c) : Range{0, n_local};
    const std::size_t S = range.size();
    PTT_CHECK(std::size_t(counts[std::size_t(r)]) == k * S, "gather: a rank sent an unexpected size");
    const float* src = all.data() + displs[std::size_t(r)];
    for (std::size_t a = 0; a < k; ++a)
      for (std::size_t i = 0; i < S; ++i)
        full[a * full_.size() + part.to_full[range.begin + i]] = src[a * S + i];
  }
}

void HybridModel::gather_params(std::span<float> full) const {
  gather_to_root(full, 1, false, [&] { return params_; });
}
void HybridModel::gather_grads(std::span<float> full) const {
  gather_to_root(full, 1, false, [&] { return grads_; });
}
void HybridModel::gather_optimizer(std::span<float> full) const {
  const std::size_t k = std::size_t(optimizer_arrays(optimizer_->name()));
  // Under ZeRO 1 a rank has the state of its shard only: gather_to_root() knows the ranges.
  gather_to_root(full, k, true, [&] {
    const std::span<float> s = optimizer_->state();
    return std::vector<float>(s.begin(), s.end());
  });
}

HybridModel::Slot& HybridModel::take_slot() {
  if (free_.empty()) {
    slots_.push_back(std::make_unique<Slot>());
    free_.push_back(slots_.back().get());
  }
  Slot& s = *free_.back();
  free_.pop_back();
  s.wait();  // an earlier micro-batch's Isend may still read this workspace
  return s;
}

void HybridModel::give_back(Slot& slot) { free_.push_back(&slot); }

void HybridModel::tp_allreduce(Matrix& m) {
  if (options_.grid.tp == 1) return;
  PTT_MPI_CHECK(
      MPI_Allreduce(MPI_IN_PLACE, m.data(), static_cast<int>(m.size()), MPI_FLOAT, MPI_SUM, groups_.tp));
  traffic_.tp += std::size_t(m.size()) * kFloat;
}

//! [hybrid_forward]
void HybridModel::forward(int micro, Slot& slot, const Dataset& data, std::span<const std::uint32_t> rows,
                          double& loss_sum, std::size_t& correct) {
  const ParamLayout& layout = shard_.layout;
  const int nl = layout.num_layers();
  const auto top = std::size_t(nl);
  Workspace& ws = slot.ws;
  const auto n = static_cast<Eigen::Index>(rows.size());
  ws.resize(layout, n);
  // The input: the samples themselves on the first stage, the previous stage's output elsewhere.
  if (shard_.first_stage()) {
    gather(data, rows, ws.acts[0], slot.labels);
  } else {
    PTT_MPI_CHECK(MPI_Recv(ws.acts[0].data(), static_cast<int>(ws.acts[0].size()), MPI_FLOAT, coords_.pp - 1,
                           2 * micro, groups_.pp, MPI_STATUS_IGNORE));
    if (shard_.last_stage(full_)) {
      slot.labels.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) slot.labels[i] = data.y[rows[i]];
    }
  }
  const int L = full_.num_layers();
  for (int i = 0; i < nl; ++i) {
    const auto u = std::size_t(i);
    const bool relu = shard_.first + i + 1 < L;  // every layer but the network's last
    if (shard_.splits[u] == ch05::Split::Rows) {
      // Row-parallel: my partial product, summed over the tp group, then the bias once (TODO(06.3)).
      row_parallel_forward(ws.acts[u], linear_view(layout, std::span<const float>(params_), i), relu,
                           ws.acts[u + 1], groups_.tp);
      traffic_.tp += std::size_t(ws.acts[u + 1].size()) * kFloat;
    } else {
      forward_layers(layout, params_, i, i + 1, ws, relu);  // column-parallel slice, or a whole layer
    }
  }
  if (shard_.last_stage(full_)) {
    // The loss of this micro-batch, and its gradient scaled to the GLOBAL batch: the sum over
    // micro-batches and dp ranks is then chapter 01's mean gradient.
    const float loss = softmax_cross_entropy(ws.acts[top], slot.labels, ws.delta[top]);
    ws.delta[top] *= static_cast<float>(n) / static_cast<float>(batch_size_);
    loss_sum += double(loss) * double(n);
    correct += count_correct(ws.acts[top], slot.labels);
  } else {
    MPI_Request r = MPI_REQUEST_NULL;
    PTT_MPI_CHECK(MPI_Isend(ws.acts[top].data(), static_cast<int>(ws.acts[top].size()), MPI_FLOAT,
                            coords_.pp + 1, 2 * micro, groups_.pp, &r));
    slot.sends.push_back(r);
    traffic_.pp += std::size_t(ws.acts[top].size()) * kFloat;
  }
  slot.floats = 0;
  for (const Matrix& a : ws.acts) slot.floats += std::size_t(a.size());
  held_floats_ += slot.floats;
  peak_floats_ = std::max(peak_floats_, held_floats_);
}
//! [hybrid_forward]

//! [hybrid_backward]
void HybridModel::backward(int micro, Slot& slot, bool last_op) {
  const ParamLayout& layout = shard_.layout;
  const int nl = layout.num_layers();
  const auto top = std::size_t(nl);
  Workspace& ws = slot.ws;
  if (!shard_.last_stage(full_)) {
    // dL/d(my output) from the next stage; my output went through a ReLU.
    PTT_MPI_CHECK(MPI_Recv(ws.delta[top].data(), static_cast<int>(ws.delta[top].size()), MPI_FLOAT,
                           coords_.pp + 1, 2 * micro + 1, groups_.pp, MPI_STATUS_IGNORE));
    relu_backward(ws.acts[top], ws.delta[top]);
  }
  // The last backward pass of the step finishes every gradient: start the dp all-reduce of each
  // bucket as soon as its layers are done (ZeRO 1 reduce-scatters after the pass instead).
  const bool overlap = last_op && options_.zero == 0;
  if (overlap) buckets_.start(grads_, 1.0f);
  for (int i = nl - 1; i >= 0; --i) {
    const auto u = std::size_t(i);
    const bool input_grad = shard_.first + i > 0;  // nobody needs the network's input gradient
    backward_layers(layout, params_, i, i + 1, ws, grads_, {.accumulate = true, .input_grad = input_grad});
    if (overlap) buckets_.layer_done(i);
    if (!input_grad) break;
    // A column-parallel layer's input gradient is a partial sum over my output slice.
    if (shard_.splits[u] == ch05::Split::Columns) tp_allreduce(ws.delta[u]);
    if (i > 0) relu_backward(ws.acts[u], ws.delta[u]);
  }
  if (!shard_.first_stage()) {
    MPI_Request r = MPI_REQUEST_NULL;
    PTT_MPI_CHECK(MPI_Isend(ws.delta[0].data(), static_cast<int>(ws.delta[0].size()), MPI_FLOAT,
                            coords_.pp - 1, 2 * micro + 1, groups_.pp, &r));
    slot.sends.push_back(r);
    traffic_.pp += std::size_t(ws.delta[0].size()) * kFloat;
  }
  held_floats_ -= slot.floats;
}
//! [hybrid_backward]

//! [hybrid_step]
StepOutcome HybridModel::forward_backward(const Dataset& data, std::span<const std::uint32_t> batch,
                                          PhaseTimer* phases) {
  Stopwatch watch;
  traffic_ = {};
  batch_size_ = batch.size();
  max_batch_ = std::max(max_batch_, batch_size_);
  std::fill(grads_.begin(), grads_.end(), 0.0f);
  // My dp rank's shard of the global batch, cut into micro-batches.
  const Range shard = shard_range(batch.size(), coords_.dp, options_.grid.dp);
  const int micro = static_cast<int>(std::min<std::size_t>(std::size_t(options_.microbatches), shard.size()));
  const std::vector<ch05::Op> ops =
      micro > 0 ? ch05::make_schedule(options_.schedule, coords_.pp, options_.grid.pp, micro)
                : std::vector<ch05::Op>{};
  held_.assign(std::size_t(micro), nullptr);
  double loss_sum = 0;
  std::size_t correct = 0;
  int held = 0;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const ch05::Op op = ops[k];
    const auto j = std::size_t(op.micro);
    if (op.forward) {
      const Range r = shard_range(shard.size(), op.micro, micro);
      held_[j] = &take_slot();
      forward(op.micro, *held_[j], data, batch.subspan(shard.begin + r.begin, r.size()), loss_sum, correct);
      peak_held_ = std::max(peak_held_, ++held);
    } else {
      backward(op.micro, *held_[j], k + 1 == ops.size());
      give_back(*held_[j]);
      --held;
    }
  }
  if (options_.zero == 0) {
    if (ops.empty()) {  // no samples here: my zero gradient still joins the all-reduce
      buckets_.start(grads_, 1.0f);
      for (int i = shard_.layout.num_layers() - 1; i >= 0; --i) buckets_.layer_done(i);
    }
    buckets_.finish();
    traffic_.dp = grads_.size() * kFloat;
  }
  for (auto& s : slots_) s->wait();
  const double compute = watch.seconds();
  // One small all-reduce over the world: the loss and correct count (from the last stages' tp
  // rank 0 of every replica) and whether any rank saw a NaN or an Inf. Every rank then takes the
  // same decision, so they stop together if the step diverged.
  const bool mine = shard_.last_stage(full_) && coords_.tp == 0;
  std::array<double, 3> agreed{mine ? loss_sum : 0.0, mine ? double(correct) : 0.0,
                               DivergenceGuard::finite(grads_) ? 0.0 : 1.0};
  PTT_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, agreed.data(), 3, MPI_DOUBLE, MPI_SUM, world_));
  if (phases) {
    phases->add(Phase::Compute, compute);
    phases->add(Phase::Reduce, watch.seconds() - compute);
  }
  StepOutcome out;
  out.loss = static_cast<float>(agreed[0] / double(batch.size()));
  out.correct = static_cast<std::size_t>(agreed[1]);
  out.finite = agreed[2] == 0.0 && std::isfinite(out.loss);
  return out;
}

void HybridModel::update(double lr, PhaseTimer* phases) {
  Stopwatch watch;
  optimizer_->set_lr(lr);
  if (options_.zero == 1) {
    zero1_step(params_, grads_, shard_grads_, *optimizer_, groups_.dp);  // [ch06] ZeRO-1
    traffic_.dp = grads_.size() * kFloat;
  } else {
    optimizer_->step(params_, grads_);
  }
  if (phases) phases->add(Phase::Update, watch.seconds());
}
//! [hybrid_step]

Memory HybridModel::memory() const {
  Memory m;
  m.params = params_.size() * kFloat;
  m.grads = grads_.size() * kFloat;
  m.optimizer = optimizer_ ? optimizer_->state().size() * kFloat : 0;
  m.activations = peak_floats_ * kFloat;
  m.comm = shard_grads_.size() * kFloat;
  return m;
}

Memory HybridModel::memory_formula() const {
  // Psi_rank: the floats of my part, from the full widths (not from my own layout).
  const int tp = options_.grid.tp;
  std::size_t psi = 0;
  for (int i = 0; i < shard_.last - shard_.first; ++i) {
    const LayerSlot& f = full_.layer(shard_.first + i);
    const std::size_t w = std::size_t(f.in) * std::size_t(f.out), b = std::size_t(f.out);
    switch (shard_.splits[std::size_t(i)]) {
      case ch05::Split::Columns:
        psi += (w + b) / std::size_t(tp);
        break;  // W rows and b split
      case ch05::Split::Rows:
        psi += w / std::size_t(tp) + b;
        break;  // W columns split, b whole
      case ch05::Split::Replicated:
        psi += w + b;
        break;
    }
  }
  const std::size_t k = optimizer_ ? std::size_t(optimizer_arrays(optimizer_->name())) : 0;
  const std::size_t updated = options_.zero == 1 ? zero_shard(psi, coords_.dp, options_.grid.dp).size() : psi;
  Memory m;
  m.params = psi * kFloat;
  m.grads = psi * kFloat;
  m.optimizer = k * updated * kFloat;
  m.comm = options_.zero == 1 ? updated * kFloat : 0;
  // Activations: the micro-batches the schedule holds at once (GPipe: all m; 1F1B on stage s:
  // min(pp - s, m), the first ones, which are the largest), for the largest batch seen.
  const Range shard = shard_range(max_batch_, coords_.dp, options_.grid.dp);  // my dp rank's shard
  const int micro = static_cast<int>(std::min<std::size_t>(std::size_t(options_.microbatches), shard.size()));
  const int held =
      options_.schedule == ch05::Schedule::GPipe ? micro : std::min(options_.grid.pp - coords_.pp, micro);
  std::size_t rows = 0;
  for (int j = 0; j < held; ++j) rows += shard_range(shard.size(), j, micro).size();
  m.activations = activation_floats(shard_.layout, rows) * kFloat;
  return m;
}

Traffic HybridModel::traffic_formula() const {
  // Every micro-batch sends its rows once, so a step moves what one pass of my dp shard does.
  const std::size_t rows = shard_range(batch_size_, coords_.dp, options_.grid.dp).size();
  Traffic t;
  for (int i = 0; i < shard_.last - shard_.first && options_.grid.tp > 1; ++i) {
    const LayerSlot& f = full_.layer(shard_.first + i);
    if (shard_.splits[std::size_t(i)] == ch05::Split::Rows) t.tp += rows * std::size_t(f.out);  // forward
    if (shard_.splits[std::size_t(i)] == ch05::Split::Columns && shard_.first + i > 0)
      t.tp += rows * std::size_t(f.in);  // backward: the input gradient
  }
  const auto& widths = full_.sizes();
  if (!shard_.last_stage(full_)) t.pp += rows * std::size_t(widths[std::size_t(shard_.last)]);  // activations
  if (!shard_.first_stage()) t.pp += rows * std::size_t(widths[std::size_t(shard_.first)]);     // gradients
  t.tp *= kFloat;
  t.pp *= kFloat;
  t.dp = memory_formula().params;  // the gradient of my part: the all-reduce's (or reduce-scatter's) payload
  return t;
}

void HybridModel::check_replicas() const { ch03::check_replicas(params_, groups_.dp); }

std::string describe_grid(const ParamLayout& full, const Grid& grid) {
  std::ostringstream out;
  out << "grid dp " << grid.dp << " x pp " << grid.pp << " x tp " << grid.tp << " (order "
      << axis_name(grid.order[0]) << "-" << axis_name(grid.order[1]) << "-" << axis_name(grid.order[2])
      << ", innermost first)\n";
  for (int r = 0; r < grid.size(); ++r) {
    const Coords c = grid_coords(grid, r);
    const RankShard s = make_rank_shard(full, grid, c);
    out << "  rank " << r << ": dp " << c.dp << " pp " << c.pp << " tp " << c.tp << " | layers "
        << s.first + 1 << "-" << s.last << " |";
    for (int i = 0; i < s.last - s.first; ++i) {
      const LayerSlot& l = s.layout.layer(i);
      const ch05::Split split = s.splits[std::size_t(i)];
      out << " " << l.in << "x" << l.out
          << (split == ch05::Split::Columns ? "(cols)"
              : split == ch05::Split::Rows  ? "(rows)"
                                            : "");
    }
    out << " | " << s.layout.size() << " params\n";
  }
  return out.str();
}

}  // namespace ptt::ch06
