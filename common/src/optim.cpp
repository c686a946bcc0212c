#include "ptt/optim.hpp"

#include <cmath>

#include "ptt/error.hpp"

namespace ptt {

Sgd::Sgd(std::size_t n, float lr, float momentum) : lr_(lr), momentum_(momentum), velocity_(n, 0.0f) {}

void Sgd::update_range(std::span<float> params, std::span<const float> grads, std::size_t begin,
                       std::size_t end) {
  PTT_CHECK(params.size() == velocity_.size() && grads.size() == params.size() && end <= params.size(),
            "size mismatch");
  float* v = velocity_.data();
  const float mu = momentum_;
  const float lr = lr_;
  for (std::size_t i = begin; i < end; ++i) {
    v[i] = mu * v[i] + grads[i];
    params[i] -= lr * v[i];
  }
}

Adam::Adam(std::size_t n, float lr, float beta1, float beta2, float eps)
    : lr_(lr), beta1_(beta1), beta2_(beta2), eps_(eps), moments_(2 * n, 0.0f) {}

void Adam::begin_step() {
  ++t_;
  c1_ = 1.0f - std::pow(beta1_, static_cast<float>(t_));
  c2_ = 1.0f - std::pow(beta2_, static_cast<float>(t_));
}

void Adam::update_range(std::span<float> params, std::span<const float> grads, std::size_t begin,
                        std::size_t end) {
  const std::size_t n = params.size();
  PTT_CHECK(2 * n == moments_.size() && grads.size() == n && end <= n, "size mismatch");
  PTT_CHECK(t_ > 0, "begin_step() was not called");
  const float c1 = c1_, c2 = c2_;
  float* m = moments_.data();
  float* v = moments_.data() + n;
  for (std::size_t i = begin; i < end; ++i) {
    const float g = grads[i];
    m[i] = beta1_ * m[i] + (1.0f - beta1_) * g;
    v[i] = beta2_ * v[i] + (1.0f - beta2_) * g * g;
    params[i] -= lr_ * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps_);
  }
}

double scheduled_lr(const std::string& schedule, double lr, long step, long total) {
  if (schedule == "constant" || total <= 0) return lr;
  PTT_CHECK(schedule == "cosine", "unknown schedule");
  constexpr double kPi = 3.14159265358979323846;
  return lr * 0.5 * (1.0 + std::cos(kPi * static_cast<double>(step) / static_cast<double>(total)));
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::size_t n, double lr,
                                          double momentum) {
  if (name == "sgd") return std::make_unique<Sgd>(n, static_cast<float>(lr), static_cast<float>(momentum));
  if (name == "adam") return std::make_unique<Adam>(n, static_cast<float>(lr));
  throw InputError("--optimizer: unknown optimizer '" + name + "' (use sgd or adam)");
}

}  // namespace ptt
