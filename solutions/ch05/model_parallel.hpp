// model_parallel.hpp — what chapter 05's two ways of splitting the model have in common.
//
// The model is split between workers: each Worker OWNS its part of the parameters, its gradients
// and its optimizer state (a shard with its own small ParamLayout), and sees nothing else.
// A map `to_full` tells, for every float a worker owns, where that float sits in chapter 01's
// flat buffer. With it chapter 01's initial weights (or a checkpoint) go into the shards, the shards
// come back for evaluation, checksums and checkpoints, and the tests can compare with chapter 01.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ch05/timeline.hpp"
#include "ch05/worker_pool.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "ptt/tensor.hpp"

namespace ptt::ch05 {

/// One worker's part of the model.
struct Worker {
  explicit Worker(std::vector<int> sizes) : layout(std::move(sizes)) {}
  ParamLayout layout;                ///< the shard's own layer shapes
  std::vector<float> params, grads;  ///< laid out by `layout`
  std::unique_ptr<Optimizer> optimizer;
  std::vector<std::size_t> to_full;  ///< to_full[i]: index in chapter 01's buffer of params[i]
};

/// A model split between workers (threads that talk only through Channels; started once, with
/// the model, in a WorkerPool).
class ModelParallel {
 public:
  ModelParallel(const ParamLayout& full, int workers, bool trace);
  virtual ~ModelParallel() = default;
  ModelParallel(const ModelParallel&) = delete;
  ModelParallel& operator=(const ModelParallel&) = delete;

  /// @brief Forward and backward of one mini-batch on all workers. Gradients stay with their
  /// workers, as the MEAN over the batch (chapter 01's).
  /// @param X [B, I] the batch; @param labels [B]. @return the mean loss.
  virtual float forward_backward(ConstMatrixRef X, std::span<const std::uint8_t> labels) = 0;
  /// [B, C] logits of the last forward_backward (for the training accuracy).
  const Matrix& logits() const { return logits_; }
  /// Every worker updates what it owns with its own optimizer, on its own thread (no messages needed).
  void update(double lr);

  /// @brief Creates every worker's optimizer ("sgd" or "adam", as make_optimizer).
  void make_optimizers(const std::string& name, double lr, double momentum);
  /// Chapter 01's buffer from the shards (replicated parts are equal on every worker).
  void gather_params(std::span<float> full) const;
  void gather_grads(std::span<float> full) const;
  /// True when every worker's gradients are finite (a scan, no copy: the common case is cheap).
  bool grads_finite() const;
  /// The shards from chapter 01's buffer.
  void scatter_params(std::span<const float> full);
  /// Floats of optimizer state of the whole model: k per parameter (SGD's velocity: k = 1; Adam's
  /// m and v: k = 2), Optimizer::state()'s layout (k arrays of chapter 01's buffer).
  std::size_t optimizer_state_size() const;
  /// @brief The workers' optimizer states into @p full (optimizer_state_size() floats).
  void gather_optimizer(std::span<float> full) const;
  /// @brief The workers' optimizer states from @p full, and their update count (Adam's t).
  void scatter_optimizer(std::span<const float> full, long optimizer_steps);
  /// Updates made so far (the same on every worker).
  long optimizer_steps() const;

  int num_workers() const { return static_cast<int>(workers_.size()); }
  const Worker& worker(int w) const { return workers_.at(static_cast<std::size_t>(w)); }
  Timeline& timeline() { return timeline_; }
  /// How long a worker waits for a message before it declares the step stuck.
  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }

 protected:
  std::size_t full_size_;
  std::vector<Worker> workers_;
  Matrix logits_;
  Timeline timeline_;
  WorkerPool pool_;  // the workers' threads, started here and kept for every step
  std::chrono::milliseconds timeout_{60000};
  long step_ = 0;  // forward_backward() calls so far: the step its events are tagged with
};

}  // namespace ptt::ch05
