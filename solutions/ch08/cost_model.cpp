// Chapter 08's cost model: each term below is a formula an earlier chapter derived and measured.
// Notation: a layer maps I inputs to O outputs; n rows per micro-batch; T = tp, P = pp, D = dp.
#include "ch08/cost_model.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <sstream>

#include "ptt/error.hpp"

namespace ptt::ch08 {

namespace {

// Chapter 06's Megatron pairs: with T > 1, layers pair up from the input. The first of a pair is
// split by outputs (column-parallel), the second by inputs (row-parallel); an unpaired last layer
// is replicated.
bool column_split(int layer, int layers, int tp) { return tp > 1 && layer % 2 == 0 && layer + 1 < layers; }
bool row_split(int layer, int tp) { return tp > 1 && layer % 2 == 1; }

double io(const std::vector<int>& w, int layer) { return static_cast<double>(w[layer]) * w[layer + 1]; }

}  // namespace

std::string Layout::describe() const {
  std::ostringstream s;
  s << "dp=" << dp << " pp=" << pp << " tp=" << tp << " m=" << m << ' '
    << (schedule == Schedule::gpipe ? "gpipe" : "1f1b") << " zero=" << zero;
  return s.str();
}

double Model::params() const {
  double total = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l)
    total += static_cast<double>(widths[l]) * widths[l + 1] + widths[l + 1];
  return total;
}

std::vector<int> partition_stages(const std::vector<int>& widths, int pp, int tp) {
  const int layers = static_cast<int>(widths.size()) - 1;
  // The units a cut may fall between: single layers, or Megatron pairs when T > 1 (chapter 06).
  std::vector<int> unit_start;
  for (int l = 0; l < layers; l += (tp > 1 ? 2 : 1)) unit_start.push_back(l);
  const int units = static_cast<int>(unit_start.size());
  if (pp < 1 || pp > units) return {};
  unit_start.push_back(layers);
  std::vector<double> prefix(units + 1, 0.0);  // multiply-adds of units [0, u)
  for (int u = 0; u < units; ++u) {
    double cost = 0;
    for (int l = unit_start[u]; l < unit_start[u + 1]; ++l) cost += io(widths, l);
    prefix[u + 1] = prefix[u] + cost;
  }
  // best[k][u]: the smallest largest stage when units [0, u) form k stages (chapter 06's balance).
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> best(pp + 1, std::vector<double>(units + 1, inf));
  std::vector<std::vector<int>> cut(pp + 1, std::vector<int>(units + 1, 0));
  best[0][0] = 0;
  for (int k = 1; k <= pp; ++k)
    for (int u = k; u <= units; ++u)
      for (int c = k - 1; c < u; ++c) {
        const double v = std::max(best[k - 1][c], prefix[u] - prefix[c]);
        if (v < best[k][u]) best[k][u] = v, cut[k][u] = c;
      }
  std::vector<int> bounds(pp + 1);
  bounds[pp] = units;
  for (int k = pp; k >= 1; --k) bounds[k - 1] = cut[k][bounds[k]];
  for (int& b : bounds) b = unit_start[b];  // units -> layers
  return bounds;
}

std::vector<int> place_on_cores(const Layout& layout, const Machine& machine) {
  const int workers = layout.dp * layout.pp * layout.tp, per_node = std::max(1, machine.workers_per_node);
  const int cores = machine.cores_per_node;
  if (cores <= 0 || std::min(workers, per_node) <= cores) return {};
  // A worker's key: its tp index, then its replica, then its stage (chapter 06 numbers them
  // r = (d pp + s) tp + t). Sorted by that key, one pipeline's stages are neighbours, and the ranks
  // of a tp group are as far apart as the node allows. (These are chapter 06's grid_coords() in its
  // default order; that function sits behind an MPI header, and the model stays MPI-free.)
  const auto key = [&](int r) {
    const int t = r % layout.tp, s = (r / layout.tp) % layout.pp, d = r / (layout.tp * layout.pp);
    return std::array<int, 3>{t, d, s};
  };
  std::vector<int> core(static_cast<std::size_t>(workers));
  for (int first = 0; first < workers; first += per_node) {
    const int n = std::min(per_node, workers - first);
    std::vector<int> ranks(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) ranks[static_cast<std::size_t>(i)] = first + i;
    std::stable_sort(ranks.begin(), ranks.end(), [&](int a, int b) { return key(a) < key(b); });
    // Contiguous blocks: the i-th of n workers in that order goes to core floor(i cores / n).
    for (int i = 0; i < n; ++i)
      core[static_cast<std::size_t>(ranks[static_cast<std::size_t>(i)])] =
          static_cast<int>(static_cast<long long>(i) * std::min(cores, n) / n);
  }
  return core;
}

Prediction predict(const Model& model, const Layout& layout, const Machine& machine) {
  PTT_CHECK(model.widths.size() >= 2, "a model has at least one layer");
  PTT_CHECK(layout.dp >= 1 && layout.pp >= 1 && layout.tp >= 1 && layout.m >= 1,
            "layout sizes must be positive");
  Prediction out;
  const auto& w = model.widths;
  const int layers = static_cast<int>(w.size()) - 1;
  const int tp = layout.tp, pp = layout.pp, dp = layout.dp, m = layout.m;
  for (int l = 0; l < layers; ++l)
    if (column_split(l, layers, tp) && w[l + 1] % tp != 0) {
      out.invalid = "tp " + std::to_string(tp) + " does not divide width " + std::to_string(w[l + 1]);
      return out;
    }
  const std::vector<int> stages = partition_stages(w, pp, tp);
  if (stages.empty()) {
    out.invalid = "pp " + std::to_string(pp) + " exceeds the " + (tp > 1 ? "layer pairs" : "layers");
    return out;
  }
  const double rows = model.batch / dp;  // the replica's share of the global batch (chapter 06)
  if (rows < m) {
    out.invalid = "m " + std::to_string(m) + " exceeds the rows per replica";
    return out;
  }
  const double n = rows / m;  // rows per micro-batch
  const bool mixed = model.precision == Precision::mixed;
  const double elem = mixed ? 2.0 : 4.0;  // bytes of an activation or gradient value
  const int workers = dp * pp * tp;
  const int on_node = std::min(workers, machine.workers_per_node);
  // The GEMM rates (compute_time.hpp): a measured table, looked up at n rows; with every core of
  // the node busy when the worker is not alone on it. The table is fp32; mixed precision scales
  // it by flops_mixed / flops_fp32 (1 in a calibrated file). Without a table, the single rate.
  RateTable fwd_rate, bwd_rate;
  if (machine.gemm_fp32.empty()) {
    fwd_rate = bwd_rate = {{1.0}, {mixed ? machine.flops_mixed : machine.flops_fp32}};
  } else {
    const GemmTable& g = machine.gemm_fp32;
    fwd_rate = on_node > 1 ? g.forward_busy : g.forward_alone;
    bwd_rate = on_node > 1 ? g.backward_busy : g.backward_alone;
    if (mixed)
      for (RateTable* t : {&fwd_rate, &bwd_rate})
        for (double& f : t->flops_per_s) f *= machine.flops_mixed / machine.flops_fp32;
  }
  // Ranks are numbered tp innermost, then pp, then dp (chapter 06): a group stays inside a node
  // while the ranks it spans fit in one. A ring that crosses nodes runs at the slower link.
  const bool cpu = machine.cores_per_node > 0;
  // A node with more workers than cores: when the machine has a link measured that way (an
  // all-reduce on that many ranks, ch08_calibrate --links), a message inside the node takes it
  // and is not stretched again by the contention factor below: its time already holds the
  // scheduler handing the cores from rank to rank.
  const bool crowded = cpu && on_node > machine.cores_per_node && machine.oversubscribed_link.has_value();
  const Link intra = crowded ? *machine.oversubscribed_link : machine.intra_node;
  const bool tp_inside = tp <= machine.workers_per_node, pp_inside = tp * pp <= machine.workers_per_node,
             dp_inside = workers <= machine.workers_per_node;
  const Link tp_link = tp_inside ? intra : machine.inter_node;
  const Link pp_link = pp_inside ? intra : machine.inter_node;
  const Link dp_link = dp_inside ? intra : machine.inter_node;
  // A CPU moves a message itself (shared memory is a copy): while every core of the node runs a
  // worker, nothing is left to progress the all-reduce in the background. Only with a spare core
  // (or with cores_per_node = 0: a GPU's copy engines) does the backward hide it.
  const bool spare_core = !cpu || on_node < machine.cores_per_node;

  // One stage's times when `busy` workers of the node want a core at once (contention below).
  struct StageTimes {
    double comp_f, comp_b, tp_f, tp_b, pp_f, pp_b, t_f, t_b, dp_full, dp_exposed, update, cpu_s;
    MemoryBreakdown memory;
  };
  const auto stage_times = [&](int s, double busy) {
    const double slow = cpu ? std::max(1.0, busy / machine.cores_per_node) : 1.0;
    // A message inside a crowded node already holds its contention (above).
    const auto stretch = [&](bool inside) { return crowded && inside ? 1.0 : slow; };
    const auto send = [](const Link& link, double bytes) {
      return link.alpha_s + bytes * link.beta_s_per_byte;
    };
    double tp_f = 0, tp_b = 0, psi = 0, act_values = w[stages[s]];
    std::vector<StageLayer> gemms;
    for (int l = stages[s]; l < stages[s + 1]; ++l) {
      const bool col = column_split(l, layers, tp), row = row_split(l, tp);
      // Chapter 01's products, a share 1/T of them on a split layer (TODO(08.3) times them).
      gemms.push_back(
          {static_cast<double>(w[l]), static_cast<double>(w[l + 1]), (col || row) ? 1.0 / tp : 1.0, l == 0});
      // Chapter 06's tp traffic: a row-split layer all-reduces its output (n O) forward, a
      // column-split layer but the network's first all-reduces its input gradient (n I) backward.
      if (row) tp_f += ring_allreduce_time(n * w[l + 1] * elem, tp, tp_link);
      if (col && l > 0) tp_b += ring_allreduce_time(n * w[l] * elem, tp, tp_link);
      // Chapter 06's Psi_r: column-split (IO + O)/T, row-split IO/T + O (bias once), else IO + O.
      psi += col ? (io(w, l) + w[l + 1]) / tp : row ? io(w, l) / tp + w[l + 1] : io(w, l) + w[l + 1];
      act_values += col ? w[l + 1] / static_cast<double>(tp) : w[l + 1];  // outputs as the worker holds them
    }
    StageTimes t{};
    // One micro-batch of n rows: the products run at the rate of n rows, not of the batch.
    const ComputeTime gemm = stage_compute_time(gemms, n, fwd_rate, bwd_rate, busy, machine.cores_per_node);
    t.comp_f = gemm.forward_s, t.comp_b = gemm.backward_s;
    t.tp_f = tp_f * stretch(tp_inside), t.tp_b = tp_b * stretch(tp_inside);
    // Chapter 05/06's pipeline messages: activations forward unless last, gradients back unless first.
    t.pp_f = s + 1 < pp ? send(pp_link, n * w[stages[s + 1]] * elem) * stretch(pp_inside) : 0.0;
    t.pp_b = s > 0 ? send(pp_link, n * w[stages[s]] * elem) * stretch(pp_inside) : 0.0;
    const double t_f = t.comp_f + t.tp_f + t.pp_f, t_b = t.comp_b + t.tp_b + t.pp_b;
    t.t_f = t_f, t.t_b = t_b;
    // Chapter 03's ring over the D replicas of this stage's gradients (ZeRO-1/2's reduce-scatter
    // plus all-gather move the same bytes; ZeRO-3 also all-gathers the parameters for the
    // backward: 3 Psi instead of 2 Psi, the ZeRO paper's 1.5x). Chapter 06 starts it when the
    // last micro-batch's backward starts, so that backward hides up to its own length, given a
    // core (or a copy engine) to progress it.
    t.dp_full =
        ring_allreduce_time(psi * elem, dp, dp_link) * (layout.zero == 3 ? 1.5 : 1.0) * stretch(dp_inside);
    t.dp_exposed = spare_core ? std::max(0.0, t.dp_full - t.comp_b) : t.dp_full;
    // The update streams parameters (read and write), gradients (read) and the state (read and
    // write) through memory once; ZeRO >= 1 updates a 1/D shard.
    const double state = mixed ? 4.0 + 4.0 * model.optimizer_k : 4.0 * model.optimizer_k;
    const double owned = layout.zero >= 1 ? psi / dp : psi;
    t.update = owned * (2 * elem + elem + 2 * state) / machine.memory_bandwidth * slow;
    // The core time the worker needs (its computing, its messages, its update): not the bubble.
    t.cpu_s = m * (t_f + t_b) + t.dp_full + t.update;
    // Activations (chapter 05): GPipe holds all m micro-batches; 1F1B holds min(P - s, m) on stage s.
    const double held = layout.schedule == Schedule::gpipe ? m : std::min(pp - s, m);
    t.memory = memory_per_worker(
        {psi, dp, layout.zero, model.precision, model.optimizer_k, held * n * act_values * elem});
    // Chapter 06's ZeRO-1 reduce-scatters the gradients into a buffer of the rank's shard, whole
    // parameters (ZeRO-2 keeps only that shard: its gradients are the destination, no extra).
    if (layout.zero == 1 && dp > 1) t.memory.buffers = std::ceil(psi / dp) * elem;
    return t;
  };

  // The step (chapter 05's pipeline). With P equal stages it is (m + P - 1)(t_f + t_b):
  // pipeline_step_time, TODO(08.1). Chapter 06 cuts stages between layers, so they are rarely
  // equal: the slowest stage k runs its m micro-batches back to back, while the fill and the drain
  // pass once through every other stage at THAT stage's speed. Each faster stage gives its slack
  // t_k - t_s back: T_pipe = (m + P - 1) t_k - sum_s (t_k - t_s) = (m - 1) t_k + sum_s t_s.
  // Then each stage's exposed all-reduce and update; the longest of them ends the step.
  const auto whole_step = [&](const std::vector<StageTimes>& st, Prediction* terms) {
    std::size_t k = 0, last = 0;
    for (std::size_t s = 1; s < st.size(); ++s) {
      if (st[s].t_f + st[s].t_b > st[k].t_f + st[k].t_b) k = s;
      if (st[s].dp_exposed + st[s].update > st[last].dp_exposed + st[last].update) last = s;
    }
    const double t_k = st[k].t_f + st[k].t_b;
    double slack = 0;
    for (const StageTimes& t : st) slack += t_k - (t.t_f + t.t_b);
    const double pipe = pipeline_step_time(st[k].t_f, st[k].t_b, pp, m) - slack;
    const double step = pipe + st[last].dp_exposed + st[last].update;
    if (terms != nullptr) {
      terms->compute_s = m * (st[k].comp_f + st[k].comp_b);
      terms->tp_comm_s = m * (st[k].tp_f + st[k].tp_b);
      terms->pp_comm_s = m * (st[k].pp_f + st[k].pp_b);
      terms->bubble_s = pipe - m * t_k;
      terms->dp_comm_s = st[last].dp_full;
      terms->dp_exposed_s = st[last].dp_exposed;
      terms->update_s = st[last].update;
      terms->step_s = step;
    }
    return step;
  };

  // Contention (chapter 02's lesson on 2 cores). First every stage as if its workers had a core
  // each: the critical path T1. A worker needs cpu_s core-seconds per step (not the bubble, where
  // it waits), so on average busy = on_node x mean(cpu_s) / T1 of the node's workers want a core.
  // With more busy workers than cores every time stretches by busy / cores, and the step becomes
  // the node's core time over its cores: the larger of the critical path and the cores' work.
  std::vector<StageTimes> alone;
  double mean_cpu = 0;
  for (int s = 0; s < pp; ++s) {
    alone.push_back(stage_times(s, 1.0));
    mean_cpu += alone.back().cpu_s / pp;
  }
  const double path = whole_step(alone, nullptr);
  const double busy = cpu && path > 0 ? std::max(1.0, on_node * mean_cpu / path) : 1.0;
  out.busy_workers = busy;
  out.crowded_link = crowded;
  std::vector<StageTimes> shared;
  for (int s = 0; s < pp; ++s) shared.push_back(busy > 1.0 ? stage_times(s, busy) : alone[s]);
  whole_step(shared, &out);
  for (const StageTimes& t : shared)
    if (t.memory.total() > out.memory.total()) out.memory = t.memory;
  out.samples_per_s = out.step_s > 0 ? model.batch / out.step_s : 0.0;
  out.fits = out.memory.total() <= machine.memory_bytes;
  return out;
}

}  // namespace ptt::ch08
