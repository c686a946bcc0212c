#include "ch05/model_parallel.hpp"

#include <algorithm>

#include "ptt/error.hpp"
#include "ptt/resume.hpp"

namespace ptt::ch05 {

ModelParallel::ModelParallel(const ParamLayout& full, int workers, bool trace)
    : full_size_(full.size()), timeline_(workers, trace), pool_(workers) {}

void ModelParallel::update(double lr) {
  for (Worker& w : workers_) PTT_CHECK(w.optimizer != nullptr, "make_optimizers() was not called");
  // Every worker updates its own shard on its own thread, all at once: no shard is shared.
  pool_.run([&](int k) {
    Worker& w = workers_[static_cast<std::size_t>(k)];
    w.optimizer->set_lr(lr);
    w.optimizer->step(w.params, w.grads);
  });
}

void ModelParallel::make_optimizers(const std::string& name, double lr, double momentum) {
  for (Worker& w : workers_) w.optimizer = make_optimizer(name, w.params.size(), lr, momentum);
}

void ModelParallel::gather_params(std::span<float> full) const {
  PTT_CHECK(full.size() == full_size_, "gather_params: buffer does not match the model");
  for (const Worker& w : workers_)
    for (std::size_t i = 0; i < w.params.size(); ++i) full[w.to_full[i]] = w.params[i];
}

void ModelParallel::gather_grads(std::span<float> full) const {
  PTT_CHECK(full.size() == full_size_, "gather_grads: buffer does not match the model");
  for (const Worker& w : workers_)
    for (std::size_t i = 0; i < w.grads.size(); ++i) full[w.to_full[i]] = w.grads[i];
}

bool ModelParallel::grads_finite() const {
  return std::all_of(workers_.begin(), workers_.end(),
                     [](const Worker& w) { return DivergenceGuard::finite(w.grads); });
}

void ModelParallel::scatter_params(std::span<const float> full) {
  PTT_CHECK(full.size() == full_size_, "scatter_params: buffer does not match the model");
  for (Worker& w : workers_)
    for (std::size_t i = 0; i < w.params.size(); ++i) w.params[i] = full[w.to_full[i]];
}

// An optimizer's state is k floats per parameter, stored as k consecutive arrays (SGD: the
// velocity; Adam: m then v), so each array maps through to_full like the parameters.
std::size_t ModelParallel::optimizer_state_size() const {
  const Worker& w = workers_.front();
  PTT_CHECK(w.optimizer != nullptr, "make_optimizers() was not called");
  return w.optimizer->state().size() / w.params.size() * full_size_;
}

void ModelParallel::gather_optimizer(std::span<float> full) const {
  PTT_CHECK(full.size() == optimizer_state_size(), "gather_optimizer: buffer does not match the optimizer");
  const std::size_t k = full.size() / full_size_;
  for (const Worker& w : workers_) {
    const std::span<const float> in = w.optimizer->state();
    const std::size_t n = w.params.size();
    PTT_CHECK(in.size() == k * n, "gather_optimizer: the optimizers differ");
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t i = 0; i < n; ++i) full[c * full_size_ + w.to_full[i]] = in[c * n + i];
  }
}

void ModelParallel::scatter_optimizer(std::span<const float> full, long optimizer_steps) {
  PTT_CHECK(full.size() == optimizer_state_size(), "scatter_optimizer: buffer does not match the optimizer");
  const std::size_t k = full.size() / full_size_;
  for (Worker& w : workers_) {
    const std::span<float> out = w.optimizer->state();
    const std::size_t n = w.params.size();
    PTT_CHECK(out.size() == k * n, "scatter_optimizer: the optimizers differ");
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t i = 0; i < n; ++i) out[c * n + i] = full[c * full_size_ + w.to_full[i]];
    w.optimizer->set_steps_taken(optimizer_steps);
  }
}

long ModelParallel::optimizer_steps() const {
  PTT_CHECK(workers_.front().optimizer != nullptr, "make_optimizers() was not called");
  return workers_.front().optimizer->steps_taken();
}

}  // namespace ptt::ch05
