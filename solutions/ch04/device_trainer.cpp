// device_trainer.cpp — the host side of chapter 04's trainer: buffers, the step's kernel
// sequence, and its capture into a CUDA graph.
#include "ch04/device_trainer.hpp"

#include <cmath>

#include "ch04/cuda_check.hpp"
#include "ch04/graph_step.hpp"
#include "ptt/error.hpp"
#include "ptt/optim.hpp"

namespace ptt::ch04 {

template <class T>
DeviceBuffer<T>::DeviceBuffer(std::size_t n) : n_(n) {
  if (n > 0) PTT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), n * sizeof(T)));
}
template <class T>
DeviceBuffer<T>::~DeviceBuffer() {
  if (ptr_) cudaFree(ptr_);  // no check: a destructor must not throw (errors surface at the next call)
}
template <class T>
DeviceBuffer<T>& DeviceBuffer<T>::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (ptr_) cudaFree(ptr_);
    ptr_ = o.ptr_, n_ = o.n_;
    o.ptr_ = nullptr, o.n_ = 0;
  }
  return *this;
}
template <class T>
void DeviceBuffer<T>::upload(std::span<const T> host) {
  PTT_CHECK(host.size() == n_, "upload size mismatch");
  if (n_ > 0) PTT_CUDA_CHECK(cudaMemcpy(ptr_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
  // From pageable memory cudaMemcpy may return before the data reaches the device, and it is not
  // ordered with non-blocking streams (the trainer's): wait, so any stream sees the new data.
  PTT_CUDA_CHECK(cudaDeviceSynchronize());
}
template <class T>
void DeviceBuffer<T>::download(std::span<T> host) const {
  PTT_CHECK(host.size() == n_, "download size mismatch");
  if (n_ > 0) PTT_CUDA_CHECK(cudaMemcpy(host.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
}
template class DeviceBuffer<float>;
template class DeviceBuffer<std::uint8_t>;
template class DeviceBuffer<std::uint32_t>;  // also unsigned (the correct-prediction count)
template class DeviceBuffer<int>;
template class DeviceBuffer<double>;
template class DeviceBuffer<StepHyper>;

namespace {
constexpr float kAdamBeta1 = 0.9f, kAdamBeta2 = 0.999f, kAdamEps = 1e-8f;  // ptt::Adam's defaults
constexpr std::size_t kCublasWorkspace = 32u << 20;  // given to cuBLAS so graph capture never allocates
}  // namespace

DeviceTrainer::DeviceTrainer(const ParamLayout& layout, int max_batch, DeviceOptions options)
    : layout_(layout), max_batch_(max_batch), options_(std::move(options)) {
  PTT_CHECK(max_batch > 0, "batch size must be positive");
  require_input(options_.optimizer == "sgd" || options_.optimizer == "adam",
                "--optimizer: unknown optimizer '" + options_.optimizer + "' (use sgd or adam)");
  const std::size_t n = layout_.size();
  const auto B = static_cast<std::size_t>(max_batch);
  PTT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  PTT_CUBLAS_CHECK(cublasCreate(&cublas_));
  PTT_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));  // first: it resets the workspace
  cublas_workspace_ = DeviceBuffer<unsigned char>(kCublasWorkspace);
  PTT_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_.get(), kCublasWorkspace));
  params_ = DeviceBuffer<float>(n);
  grads_ = DeviceBuffer<float>(n);
  state_ = DeviceBuffer<float>(options_.optimizer == "adam" ? 2 * n : n);
  PTT_CUDA_CHECK(cudaMemset(state_.get(), 0, state_.size() * sizeof(float)));
  acts_.emplace_back(B * static_cast<std::size_t>(layout_.inputs()));
  for (int l = 0; l < layout_.num_layers(); ++l) {
    acts_.emplace_back(B * static_cast<std::size_t>(layout_.layer(l).out));
    delta_.emplace_back(B * static_cast<std::size_t>(layout_.layer(l).out));
  }
  y_ = DeviceBuffer<std::uint8_t>(B);
  step_ = DeviceBuffer<int>(1);
  loss_sum_ = DeviceBuffer<double>(1);
  correct_ = DeviceBuffer<unsigned>(1);
  PTT_CUDA_CHECK(cudaDeviceSynchronize());  // the memset above ran on the default stream
}

DeviceTrainer::~DeviceTrainer() {
  // Destructors do not throw: release in order, ignoring errors (a failed run reports its own).
  if (stream_) cudaStreamSynchronize(stream_);
  if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
  if (graph_) cudaGraphDestroy(graph_);
  if (cublas_) cublasDestroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
}

void DeviceTrainer::upload_train_set(const Dataset& train) {
  PTT_CHECK(train.features() == layout_.inputs(), "data set and network disagree on the inputs");
  features_ = train.features();
  data_x_ = DeviceBuffer<float>(train.x.size());
  data_x_.upload({train.x.data(), static_cast<std::size_t>(train.x.size())});
  data_y_ = DeviceBuffer<std::uint8_t>(train.y.size());
  data_y_.upload(train.y);
}

void DeviceTrainer::upload_params(std::span<const float> params, std::span<const float> optimizer_state) {
  params_.upload(params);
  if (!optimizer_state.empty()) state_.upload(optimizer_state);
}

void DeviceTrainer::download_params(std::span<float> params, std::span<float> optimizer_state,
                                    std::span<float> grads) const {
  synchronize();
  if (!params.empty()) params_.download(params);
  if (!optimizer_state.empty()) state_.download(optimizer_state);
  if (!grads.empty()) grads_.download(grads);
}

void DeviceTrainer::start_epoch(std::span<const std::uint32_t> order, std::span<const StepHyper> hyper,
                                int first_batch) {
  // Same-sized buffers keep their addresses, so a captured graph stays valid across epochs.
  if (order_.size() != order.size()) order_ = DeviceBuffer<std::uint32_t>(order.size());
  if (hyper_.size() < hyper.size()) {
    PTT_CHECK(graph_exec_ == nullptr || hyper_.size() == 0, "the step table may not grow after capture");
    hyper_ = DeviceBuffer<StepHyper>(hyper.size());
  }
  synchronize();  // the previous epoch's steps may still read these buffers
  PTT_CUDA_CHECK(cudaMemcpy(hyper_.get(), hyper.data(), hyper.size_bytes(), cudaMemcpyHostToDevice));
  PTT_CUDA_CHECK(cudaMemset(loss_sum_.get(), 0, sizeof(double)));
  PTT_CUDA_CHECK(cudaMemset(correct_.get(), 0, sizeof(unsigned)));
  order_.upload(order);  // (waits for the device: every copy above has landed)
  step_.upload(std::span<const int>(&first_batch, 1));
  samples_ = 0;
}

void DeviceTrainer::enqueue_step(int rows) {
  const int L = layout_.num_layers();
  float* P = params_.get();
  float* G = grads_.get();
  ch04::gather_batch(data_x_.get(), data_y_.get(), features_, order_.get(), step_.get(), max_batch_, rows,
                     acts_[0].get(), y_.get(), stream_);
  // Forward: z = a W^T (GEMM), then a = ReLU(z + b) (fused; no ReLU on the logits).
  for (int l = 0; l < L; ++l) {
    const LayerSlot& s = layout_.layer(l);
    const GemmProblem p{
        rows, s.out, s.in, {acts_[l].get(), s.in, false}, {P + s.weight, s.in, true}, acts_[l + 1].get(),
        s.out};
    gemm(options_.gemm, p, stream_, cublas_);
    bias_activation(acts_[l + 1].get(), P + s.bias, rows, s.out, l + 1 < L, stream_);  // exercise 04.3
    PTT_CUDA_CHECK_LAUNCH();
  }
  // Loss and dL/dlogits, fused; the loss and accuracy are summed on the device.
  softmax_cross_entropy(acts_[L].get(), y_.get(), rows, layout_.outputs(), delta_[L - 1].get(),
                        loss_sum_.get(), correct_.get(), stream_);
  // Backward: dW = delta^T a, db = column sums of delta, delta_below = (delta W) * 1[a > 0].
  for (int l = L - 1; l >= 0; --l) {
    const LayerSlot& s = layout_.layer(l);
    const GemmProblem dW{
        s.out, s.in, rows, {delta_[l].get(), s.out, true}, {acts_[l].get(), s.in, false}, G + s.weight, s.in};
    gemm(options_.gemm, dW, stream_, cublas_);
    bias_gradient(delta_[l].get(), rows, s.out, G + s.bias, stream_);
    if (l > 0) {
      const GemmProblem dX{rows,
                           s.in,
                           s.out,
                           {delta_[l].get(), s.out, false},
                           {P + s.weight, s.in, false},
                           delta_[l - 1].get(),
                           s.in};
      gemm(options_.gemm, dX, stream_, cublas_);
      relu_backward(acts_[l].get(), delta_[l - 1].get(), static_cast<std::size_t>(rows) * s.in, stream_);
    }
  }
  // Update, with this step's learning rate read from the table on the device.
  const std::size_t n = layout_.size();
  if (options_.optimizer == "adam")
    adam_update(P, G, state_.get(), n, kAdamBeta1, kAdamBeta2, kAdamEps, hyper_.get(), step_.get(), stream_);
  else
    sgd_update(P, G, state_.get(), n, options_.momentum, hyper_.get(), step_.get(), stream_);
  advance_step(step_.get(), stream_);
}

void DeviceTrainer::step(int rows) {
  PTT_CHECK(rows > 0 && rows <= max_batch_, "batch larger than the trainer was made for");
  PTT_CHECK(order_.size() > 0, "start_epoch() first");
  samples_ += static_cast<std::size_t>(rows);
  // Eager, capture or replay: the rules are exercise 04.5's (contracts/ch04/graph_step.hpp).
  const StepState state{.graph_enabled = options_.graph,
                        .rows = rows,
                        .max_batch = max_batch_,
                        .warmed_up = warmed_up_,
                        .captured = graph_exec_ != nullptr};
  switch (step_launch(state)) {
    case StepLaunch::eager:
      // One launch per kernel: graphs off, the epoch's last (smaller) batch, or the first full step,
      // which warms up: libraries and lazily loaded kernels initialise on their first call (cuBLAS
      // picks and loads its kernels, the driver loads each module), which must not happen inside a
      // capture. The step computes the same as the graph will.
      if (rows == max_batch_) warmed_up_ = true;
      enqueue_step(rows);
      return;
    case StepLaunch::capture:
      // Record the step once: nothing runs during capture, the kernels and their arguments are kept.
      PTT_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
      enqueue_step(rows);
      PTT_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph_));
      PTT_CUDA_CHECK(cudaGraphInstantiate(&graph_exec_, graph_, 0));
      break;
    case StepLaunch::replay:
      break;
  }
  PTT_CHECK(graph_exec_ != nullptr, "step_launch asked to replay a graph that was never captured");
  PTT_CUDA_CHECK(cudaGraphLaunch(graph_exec_, stream_));  // the whole step: one launch
}

EpochStats DeviceTrainer::sums() {
  synchronize();
  double loss = 0.0;
  unsigned correct = 0;
  PTT_CUDA_CHECK(cudaMemcpy(&loss, loss_sum_.get(), sizeof loss, cudaMemcpyDeviceToHost));
  PTT_CUDA_CHECK(cudaMemcpy(&correct, correct_.get(), sizeof correct, cudaMemcpyDeviceToHost));
  EpochStats stats;
  stats.loss_sum = loss;
  stats.correct = correct;
  stats.samples = samples_;
  return stats;
}

void DeviceTrainer::synchronize() const { PTT_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

std::vector<StepHyper> step_hyper_table(const std::string& optimizer, const std::string& schedule, double lr,
                                        long first_step, long steps, long total_steps) {
  std::vector<StepHyper> table(static_cast<std::size_t>(steps));
  for (long i = 0; i < steps; ++i) {
    StepHyper& h = table[static_cast<std::size_t>(i)];
    h.lr = static_cast<float>(scheduled_lr(schedule, lr, first_step + i, total_steps));
    if (optimizer == "adam") {  // as ptt::Adam::begin_step() for update number t
      const long t = first_step + i + 1;
      h.c1 = 1.0f - std::pow(kAdamBeta1, static_cast<float>(t));
      h.c2 = 1.0f - std::pow(kAdamBeta2, static_cast<float>(t));
    }
  }
  return table;
}

}  // namespace ptt::ch04
