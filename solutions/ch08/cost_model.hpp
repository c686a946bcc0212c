// solutions/ch08/cost_model.hpp — chapter 08's cost model: the time and memory of one training
// step of the MLP on a dp x pp x tp grid, predicted from a machine's rates, before running it.
//
// Every term is a formula of an earlier chapter (derivations in cost_model.cpp and the README):
//   compute     2 n I O per layer forward, 4 n I O backward (2 for the first layer: no dX), ch01/ch02,
//               at the GEMM rate measured at n rows when the machine has a table (compute_time.hpp)
//   tp          all-reduces of activations and input gradients per layer pair per micro-batch, ch05/ch06
//   pp          one activation send forward and one gradient send back per boundary, ch05/ch06
//   bubble      (m + p - 1)(t_f + t_b) for equal stages, GPipe and 1F1B alike, ch05; unequal ones:
//               (m - 1) t_slowest + sum of every stage's t (the fill and drain at each stage's speed)
//   dp          ring all-reduce 2(p-1) alpha + 2(p-1)/p N beta, overlapped with the last backward when
//               a core (or a GPU's copy engine) is free to move it, ch03/ch06
//   contention  the node's workers need sum(core time) per step; more of them busy at once than
//               cores stretch every term by busy / cores (a pipeline's idle workers count less), ch02
//   memory      parameters, gradients, optimizer state per ZeRO stage, held activations, ch05/ch06
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ch08/compute_time.hpp"
#include "ch08/memory.hpp"
#include "ch08/step_time.hpp"

namespace ptt::ch08 {

/// GEMM rates measured at a ladder of row counts (ch08_calibrate), FLOP/s of one worker in fp32:
/// alone on its node (one thread), and with every core of the node running a worker at once
/// (the slowest of them). Empty: every product runs at the single rate flops_fp32/flops_mixed.
struct GemmTable {
  RateTable forward_alone, backward_alone;  ///< Y = X W^T; dW = dY^T X and dX = dY W together
  RateTable forward_busy, backward_busy;    ///< the same with every core busy
  bool empty() const { return forward_alone.rows.empty(); }
};

/// The rates of one machine (a cluster of nodes of workers). Each field may carry its source.
struct Machine {
  std::string name;
  double flops_fp32 = 0;        ///< GEMM FLOP/s of one worker in fp32
  double flops_mixed = 0;       ///< GEMM FLOP/s of one worker in 16-bit (mixed precision)
  double memory_bandwidth = 0;  ///< bytes/s of one worker's memory (the optimizer update)
  Link intra_node;              ///< between two workers of a node
  Link inter_node;              ///< between two workers of different nodes
  /// Between two threads of one process (chapters 02 and 05): a handshake (alpha) and a copy
  /// through memory (beta). Optional: ch08_calibrate measures it, a GPU profile has none.
  std::optional<Link> thread_link;
  /// Between two workers of a node that has more workers than cores (cores_per_node > 0): the
  /// ring all-reduce measured with that many ranks on those cores, so it already holds the
  /// scheduler's hand-offs and the shared cores; the model does not stretch it again. Optional:
  /// without it, intra_node stretched by the contention factor.
  std::optional<Link> oversubscribed_link;
  int workers_per_node = 1;
  double memory_bytes = 0;  ///< memory of one worker
  int cores_per_node = 0;   ///< 0: no contention (a GPU per worker); else time x max(1, busy workers / cores)
  GemmTable gemm_fp32;      ///< measured rate per row count; empty: flops_fp32 for every shape
  std::map<std::string, std::string> sources;  ///< field name -> where its value comes from
};

/// Pipeline schedule (chapter 05). Same step time; 1F1B holds fewer activations.
enum class Schedule { gpipe, one_f_one_b };

/// How the workers are arranged: a dp x pp x tp grid (tp innermost, then pp, then dp, as in
/// chapter 06), m micro-batches per replica, a schedule and a ZeRO stage.
struct Layout {
  int dp = 1, pp = 1, tp = 1, m = 1;
  Schedule schedule = Schedule::gpipe;
  int zero = 0;
  /// @brief "dp=4 pp=2 tp=8 m=16 1f1b zero=1".
  std::string describe() const;
};

/// The network and the step: an MLP of the given widths (784,...,10), the global batch.
struct Model {
  std::vector<int> widths;  ///< layer widths, inputs first: widths.size() - 1 layers
  double batch = 0;         ///< global batch B (split over the dp replicas)
  Precision precision = Precision::fp32;
  int optimizer_k = 1;  ///< 1: SGD with momentum, 2: Adam
  /// @brief The number of parameters, sum over layers of I O + O.
  double params() const;
};

/// The predicted step. Times in seconds; step = pipeline (compute + tp + pp + bubble) + dp exposed + update.
struct Prediction {
  std::string invalid;        ///< non-empty: the layout cannot run this model (and why)
  double compute_s = 0;       ///< GEMMs of the slowest stage, all micro-batches
  double tp_comm_s = 0;       ///< tensor-parallel all-reduces on that stage, all micro-batches
  double pp_comm_s = 0;       ///< stage-boundary sends on that stage, all micro-batches
  double bubble_s = 0;        ///< the pipeline's fill and drain
  double dp_comm_s = 0;       ///< the data-parallel all-reduce (or ZeRO's collectives), in full
  double dp_exposed_s = 0;    ///< the part of it not hidden behind the last backward
  double update_s = 0;        ///< the optimizer update (memory bound)
  double busy_workers = 1;    ///< the node's workers that want a core at once, on average (contention)
  bool crowded_link = false;  ///< messages inside the node took Machine::oversubscribed_link, unstretched
  double step_s = 0;          ///< the step
  double samples_per_s = 0;   ///< B / step
  MemoryBreakdown memory;     ///< per worker, on the stage that needs the most
  bool fits = false;          ///< memory.total() <= machine.memory_bytes
};

/// @brief Predicts one step of @p model laid out as @p layout on @p machine. A layout that does not
/// divide the model (tp not dividing a split width, more stages than units, m > rows per replica)
/// comes back with `invalid` set and no times.
Prediction predict(const Model& model, const Layout& layout, const Machine& machine);

/// @brief Which core of its node each worker runs on when the node is crowded (more workers than
/// cores): the placement the contention term assumes, every core carrying the same work.
/// Workers are numbered as in chapter 06 (tp innermost, then pp, then dp); each node's are sorted
/// by (tp index, dp index, stage) and dealt to its cores in contiguous blocks, so the stages of one
/// pipeline share a core (they take turns: one waits while the next computes) and the ranks of a
/// tp group go to different cores (they compute at the same time and meet at every layer).
/// @return one core index per worker (0 .. cores_per_node - 1 within its node); empty when no node
/// is crowded or the machine has no cores to share (cores_per_node = 0: a GPU per worker).
std::vector<int> place_on_cores(const Layout& layout, const Machine& machine);

/// @brief The workers' stages: contiguous runs of layers (of layer pairs when tp > 1), balanced by
/// their multiply-adds. @return the first layer of each stage and, last, the number of layers;
/// empty when pp exceeds the units.
std::vector<int> partition_stages(const std::vector<int>& widths, int pp, int tp);

}  // namespace ptt::ch08
