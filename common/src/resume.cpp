#include "ptt/resume.hpp"

#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>

#include "ptt/error.hpp"

namespace ptt {

nlohmann::json resume_config(const TrainConfig& cfg) {
  return {{"seed", cfg.seed},
          {"batch_size", cfg.batch_size},
          {"epochs", cfg.epochs},
          {"lr", cfg.lr},
          {"lr_schedule", cfg.lr_schedule},
          {"momentum", cfg.momentum},
          {"max_steps", cfg.max_steps},
          {"data_dir", cfg.data_dir}};
}

Checkpointer::Checkpointer(const TrainConfig& cfg, nlohmann::json run_config, bool writer)
    : path_(cfg.checkpoint),
      optimizer_name_(cfg.optimizer),
      every_(cfg.checkpoint_every),
      resume_(cfg.resume),
      writer_(writer),
      run_config_(std::move(run_config)) {
  if (path_.empty() || !writer_) return;
  // Fail before training, not at the first save, when the checkpoint cannot be written.
  const std::filesystem::path dir = std::filesystem::path(path_).parent_path();
  const std::string d = dir.empty() ? "." : dir.string();
  require_input(std::filesystem::is_directory(d) && ::access(d.c_str(), W_OK) == 0,
                "--checkpoint " + path_ + ": directory " + d + " does not exist or is not writable");
}

Position Checkpointer::restore(const ParamLayout& layout, const StateView& state) {
  Position at;
  if (!resume_) return at;
  TrainingState s = load_checkpoint(path_);
  check_resumable(s, layout.sizes(), optimizer_name_, run_config_);
  require_input(
      s.params.size() == state.params.size() && s.optimizer_state.size() == state.optimizer_state.size(),
      path_ + ": the saved buffers do not match this network");
  std::copy(s.params.begin(), s.params.end(), state.params.begin());
  std::copy(s.optimizer_state.begin(), s.optimizer_state.end(), state.optimizer_state.begin());
  at.epoch = s.epoch;
  at.next_batch = s.next_batch;
  at.steps = s.steps;
  at.stats = s.epoch_stats;
  at.optimizer_steps = s.optimizer_steps;
  last_step_ = s.steps;
  return at;
}

void Checkpointer::save(const ParamLayout& layout, const StateView& state, const Position& at) {
  if (!enabled() || !writer_) return;
  TrainingState s;
  s.sizes = layout.sizes();
  s.optimizer = optimizer_name_;
  s.optimizer_steps = state.optimizer_steps;
  s.params.assign(state.params.begin(), state.params.end());
  s.optimizer_state.assign(state.optimizer_state.begin(), state.optimizer_state.end());
  s.epoch = at.epoch;
  s.next_batch = at.next_batch;
  s.steps = at.steps;
  s.epoch_stats = at.stats;
  s.config = run_config_;
  save_checkpoint(path_, s);
  last_step_ = at.steps;
}

std::string Checkpointer::last() const {
  if (last_step_ < 0) return "none";
  return path_ + " (step " + std::to_string(last_step_) + ")";
}

bool DivergenceGuard::finite(std::span<const float> values) {
  // A float is NaN or +-Inf exactly when its 8 exponent bits are all ones. Testing the bits of
  // every value and OR-ing the answers, with no early exit, lets the compiler check 16 floats per
  // instruction; a loop that stops at the first std::isfinite() failure runs one float at a time.
  std::uint32_t bad = 0;
  for (float v : values) {
    const auto bits = std::bit_cast<std::uint32_t>(v);
    bad |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

void DivergenceGuard::check(float loss, std::span<const float> grads, long step, int epoch) const {
  if (!std::isfinite(loss)) fail("the loss is " + std::to_string(loss), step, epoch);
  PTT_CHECK(grads.size() == layout_.size(), "the gradient does not match the layout");
  for (int l = 0; l < layout_.num_layers(); ++l) {
    const LayerSlot& s = layout_.layer(l);
    for (std::size_t i = s.weight; i < s.end; ++i) {
      if (!std::isfinite(grads[i]))
        fail("the gradient of layer " + std::to_string(l) + " (" + std::to_string(s.in) + " -> " +
                 std::to_string(s.out) + (i < s.bias ? ", weights" : ", bias") + ") holds " +
                 std::to_string(grads[i]),
             step, epoch);
    }
  }
}

void DivergenceGuard::fail(const std::string& what, long step, int epoch) const {
  throw TrainingDiverged("training diverged at step " + std::to_string(step) + " (epoch " +
                         std::to_string(epoch) + "): " + what +
                         "; try a smaller --lr. Last good checkpoint: " + checkpoints_.last());
}

}  // namespace ptt
