// ptt/optim.hpp — optimizers that update a flat parameter buffer from a flat gradient buffer.
//
// Because they see only two float arrays of the same length, the same optimizer serves the whole
// model (chapters 01-03) or one worker's part of it (chapter 05).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ptt {

/// Updates parameters in place from gradients, keeping its own state per parameter.
///
/// An update is element-wise, so it can be split: begin_step() once, then update_range() over
/// disjoint ranges, possibly on different threads, gives the same bits as step().
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  /// @brief One update: params -= f(grads, state). Both spans have the length given at creation.
  void step(std::span<float> params, std::span<const float> grads) {
    begin_step();
    update_range(params, grads, 0, params.size());
  }
  /// Starts an update (e.g. Adam's step count); call once per step, before update_range().
  virtual void begin_step() {}
  /// @brief Updates params[i] for i in [begin, end) from grads[i] and the state of i.
  virtual void update_range(std::span<float> params, std::span<const float> grads, std::size_t begin,
                            std::size_t end) = 0;
  /// Changes the learning rate from the next update on (for schedules).
  virtual void set_lr(double lr) = 0;
  /// Updates made so far (Adam's bias correction depends on it; SGD ignores it).
  virtual long steps_taken() const { return 0; }
  /// Restores the update count from a checkpoint.
  virtual void set_steps_taken(long /*steps*/) {}
  /// The optimizer's state, flat (for checkpoints and tests).
  virtual std::span<float> state() = 0;
  virtual std::string name() const = 0;
};

/// SGD with (heavy-ball) momentum, as in PyTorch:  v = mu v + g;  p = p - lr v.
class Sgd final : public Optimizer {
 public:
  Sgd(std::size_t n, float lr, float momentum);
  void update_range(std::span<float> params, std::span<const float> grads, std::size_t begin,
                    std::size_t end) override;
  void set_lr(double lr) override { lr_ = static_cast<float>(lr); }
  std::span<float> state() override { return velocity_; }
  std::string name() const override { return "sgd"; }

 private:
  float lr_, momentum_;
  std::vector<float> velocity_;
};

/// Adam (Kingma & Ba), with bias correction:
///   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
///   p = p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
class Adam final : public Optimizer {
 public:
  Adam(std::size_t n, float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f);
  void begin_step() override;
  void update_range(std::span<float> params, std::span<const float> grads, std::size_t begin,
                    std::size_t end) override;
  void set_lr(double lr) override { lr_ = static_cast<float>(lr); }
  std::span<float> state() override { return moments_; }
  std::string name() const override { return "adam"; }
  long steps_taken() const override { return t_; }
  void set_steps_taken(long steps) override { t_ = steps; }

 private:
  float lr_, beta1_, beta2_, eps_;
  long t_ = 0;
  float c1_ = 1.0f, c2_ = 1.0f;  // bias corrections 1 - beta^t of the current step
  std::vector<float> moments_;   // m in [0, n), v in [n, 2n)
};

/// @brief The learning rate of step @p step (0-based) of @p total under a schedule:
/// "constant" gives @p lr; "cosine" decays it from lr to 0 along half a cosine,
/// lr_t = lr * (1 + cos(pi t / total)) / 2 — large steps early, fine ones at the end.
double scheduled_lr(const std::string& schedule, double lr, long step, long total);

/// @brief Makes "sgd" (with @p momentum) or "adam" for @p n parameters.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::size_t n, double lr, double momentum);

}  // namespace ptt
