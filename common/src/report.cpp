#include "ptt/report.hpp"

#include <cstdio>

#include "ptt/checksum.hpp"

namespace ptt {

std::string human_rate(double v) {
  char buf[32];
  if (v >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e3)
    std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

Reporter::Reporter(std::string program, const TrainConfig& cfg, std::vector<int> sizes, MetricsLog& log)
    : program_(std::move(program)), cfg_(cfg), sizes_(std::move(sizes)), log_(log) {}

void Reporter::start(std::size_t train_samples, std::size_t test_samples, std::size_t parameters) {
  if (quiet_) return;
  std::printf("%s: %s\n", program_.c_str(), describe(cfg_, sizes_).c_str());
  std::printf("data: %zu train / %zu test samples from %s; %zu parameters\n", train_samples, test_samples,
              cfg_.data_dir.c_str(), parameters);
  std::fflush(stdout);
}

void Reporter::epoch(int epoch, const EpochStats& train, const Evaluation& test, double train_seconds,
                     double seconds, std::size_t timed_samples) {
  if (quiet_) return;
  const double rate = train_seconds > 0 ? static_cast<double>(timed_samples) / train_seconds : 0.0;
  samples_per_s_sum_ += rate;
  ++epochs_seen_;
  std::printf("epoch %2d  train loss %.4f acc %.4f  test loss %.4f acc %.4f  %s samples/s  %.1f s\n", epoch,
              train.loss(), train.accuracy(), test.loss, test.accuracy, human_rate(rate).c_str(), seconds);
  std::fflush(stdout);
  nlohmann::json rec = {
      {"epoch", epoch},         {"train_loss", train.loss()}, {"train_acc", train.accuracy()},
      {"test_loss", test.loss}, {"test_acc", test.accuracy},  {"samples_per_s", rate},
      {"seconds", seconds}};
  rec.update(extra_);
  log_.write(rec);
}

void Reporter::finish(const Evaluation& test, long steps, std::span<const float> params,
                      const PhaseTimer& phases, double seconds) {
  if (quiet_) return;
  const double total = phases.total();
  std::printf("where the training time went:\n");
  nlohmann::json breakdown = nlohmann::json::object();
  for (int p = 0; p < kNumPhases; ++p) {
    const auto phase = static_cast<Phase>(p);
    if (!phases.ran(phase)) continue;  // only the phases this run's strategy really has
    const double s = phases.seconds(phase);
    breakdown[phase_name(phase)] = s;
    std::printf("  %-9s %8.3f s  %5.1f%%\n", phase_name(phase), s, total > 0 ? 100.0 * s / total : 0.0);
  }
  const std::string checksum = param_checksum(params);
  std::printf("final: test acc %.4f  steps %ld  param_checksum %s  %.1f s\n", test.accuracy, steps,
              checksum.c_str(), seconds);
  std::fflush(stdout);
  nlohmann::json rec = {{"final", true},
                        {"program", program_},
                        {"test_acc", test.accuracy},
                        {"test_loss", test.loss},
                        {"steps", steps},
                        {"param_checksum", checksum},
                        {"seconds", seconds},
                        {"samples_per_s", epochs_seen_ ? samples_per_s_sum_ / epochs_seen_ : 0.0},
                        {"phase_seconds", breakdown},
                        {"config",
                         {{"sizes", sizes_},
                          {"optimizer", cfg_.optimizer},
                          {"lr", cfg_.lr},
                          {"lr_schedule", cfg_.lr_schedule},
                          {"momentum", cfg_.momentum},
                          {"batch_size", cfg_.batch_size},
                          {"epochs", cfg_.epochs},
                          {"seed", cfg_.seed},
                          {"max_steps", cfg_.max_steps}}}};
  rec.update(extra_);
  log_.write(rec);
  log_.commit();
}

}  // namespace ptt
