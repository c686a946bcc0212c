// device_trainer.hpp — chapter 04's trainer: the whole training step on the GPU.
//
// The training set is uploaded once. Each step — gather the batch, forward, loss, backward,
// optimizer update — is a sequence of kernels on one stream that never waits for the host: the
// batch indices, learning rate and step count are read from device memory (a per-epoch table and
// a step counter), and the loss and accuracy are summed on the device. With use_graph, the first
// full-batch step is captured into a CUDA graph and every later full batch replays it with one
// cudaGraphLaunch (a few microseconds instead of one launch per kernel); the epoch's last,
// smaller batch runs eagerly. The parameters, gradients and optimizer state use the layouts of
// ptt::ParamLayout and ptt::Optimizer::state(), so they copy to and from the host unchanged.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ch04/gemm.hpp"
#include "ch04/train_kernels.hpp"
#include "ptt/data.hpp"
#include "ptt/metrics.hpp"
#include "ptt/mlp.hpp"

namespace ptt::ch04 {

/// How the trainer runs on the device.
struct DeviceOptions {
  GemmKernel gemm = GemmKernel::Cublas;  ///< --gemm
  bool graph = true;                     ///< --graph: replay full-batch steps from a CUDA graph
  std::string optimizer = "sgd";         ///< sgd or adam (as ptt::make_optimizer)
  float momentum = 0.9f;                 ///< SGD's momentum
};

/// A device buffer of T (cudaMalloc/cudaFree, move-only).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), n_(o.n_) { o.ptr_ = nullptr, o.n_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return ptr_; }
  std::size_t size() const { return n_; }
  /// @brief Synchronous copies to and from host memory (sizes must match).
  void upload(std::span<const T> host);
  void download(std::span<T> host) const;

 private:
  T* ptr_ = nullptr;
  std::size_t n_ = 0;
};

/// An MLP trained on the device.
class DeviceTrainer {
 public:
  /// @param layout    the network (the same layout as the host's buffers).
  /// @param max_batch the largest batch a step will see (the full batch size).
  /// @param options   the GEMM kernel, the optimizer, CUDA graph on or off (DeviceOptions).
  DeviceTrainer(const ParamLayout& layout, int max_batch, DeviceOptions options);
  ~DeviceTrainer();
  DeviceTrainer(const DeviceTrainer&) = delete;
  DeviceTrainer& operator=(const DeviceTrainer&) = delete;

  /// @brief Uploads the training set (once; a step gathers its batch from it on the device).
  void upload_train_set(const Dataset& train);
  /// @brief Uploads parameters and (optionally) optimizer state in the host layouts.
  void upload_params(std::span<const float> params, std::span<const float> optimizer_state = {});
  /// @brief Copies parameters, optimizer state and gradients back to the host (each skipped when
  /// its span is empty).
  void download_params(std::span<float> params, std::span<float> optimizer_state = {},
                       std::span<float> grads = {}) const;

  /// @brief Starts an epoch: uploads its sample order and one StepHyper per batch of the epoch,
  /// sets the step counter to @p first_batch (> 0 in an epoch resumed from a checkpoint) and
  /// zeroes the loss/accuracy sums.
  void start_epoch(std::span<const std::uint32_t> order, std::span<const StepHyper> hyper,
                   int first_batch = 0);
  /// @brief Enqueues the epoch's next step on a batch of @p rows samples (graph or eager). Does
  /// not wait for the device.
  void step(int rows);
  /// @brief Waits for the device and returns the sums since start_epoch(): loss (sum over samples
  /// of the per-sample loss), correct predictions, samples.
  EpochStats sums();
  /// @brief Waits for every enqueued step.
  void synchronize() const;

  const ParamLayout& layout() const { return layout_; }
  cudaStream_t stream() const { return stream_; }
  /// True once a full-batch step has been captured into a graph.
  bool graph_captured() const { return graph_exec_ != nullptr; }

 private:
  void enqueue_step(int rows);  // the kernels of one step, in order

  ParamLayout layout_;
  int max_batch_;
  DeviceOptions options_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t graph_exec_ = nullptr;
  bool warmed_up_ = false;   ///< one full step ran eagerly before the capture
  std::size_t samples_ = 0;  // since start_epoch()

  DeviceBuffer<float> params_, grads_, state_;  // state: SGD velocity (n) or Adam m, v (2n)
  std::vector<DeviceBuffer<float>> acts_;       // acts_[0] = x [B, I]; acts_[l+1] output of layer l
  std::vector<DeviceBuffer<float>> delta_;      // delta_[l] = dL/d(output of layer l)
  DeviceBuffer<std::uint8_t> y_;                // the batch's labels
  DeviceBuffer<float> data_x_;
  DeviceBuffer<std::uint8_t> data_y_;
  int features_ = 0;
  DeviceBuffer<std::uint32_t> order_;
  DeviceBuffer<StepHyper> hyper_;
  DeviceBuffer<int> step_;
  DeviceBuffer<double> loss_sum_;
  DeviceBuffer<unsigned> correct_;
  DeviceBuffer<unsigned char> cublas_workspace_;
};

/// @brief One StepHyper per step of an epoch: lr from the schedule (ptt::scheduled_lr) and Adam's
/// bias corrections computed exactly as ptt::Adam::begin_step() does.
/// @param optimizer   "sgd" or "adam".
/// @param schedule    "constant" or "cosine" (as --lr-schedule).
/// @param lr          the base learning rate.
/// @param first_step  global index (0-based) of the epoch's first batch.
/// @param steps       batches in the epoch.
/// @param total_steps the run's planned steps (the cosine schedule's length).
std::vector<StepHyper> step_hyper_table(const std::string& optimizer, const std::string& schedule, double lr,
                                        long first_step, long steps, long total_steps);

}  // namespace ptt::ch04
