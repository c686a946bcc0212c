// ptt/report.hpp — what every trainer prints and logs: a header, a line per epoch, the time
// breakdown and the final result, on stdout and (with --metrics) as JSON Lines.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "ptt/metrics.hpp"
#include "ptt/metrics_log.hpp"
#include "ptt/timer.hpp"
#include "ptt/train_config.hpp"

namespace ptt {

class Reporter {
 public:
  /// @param program  the executable's name, e.g. "ch01_serial".
  /// @param cfg      the parsed flags.
  /// @param sizes    the network's layer sizes.
  /// @param log      the --metrics file (may be disabled).
  Reporter(std::string program, const TrainConfig& cfg, std::vector<int> sizes, MetricsLog& log);

  /// Prints nothing and logs nothing (the ranks other than 0 in chapter 03).
  void set_quiet(bool quiet) { quiet_ = quiet; }
  /// Fields a chapter adds to every record (e.g. {"threads", 4}).
  nlohmann::json& extra() { return extra_; }

  /// Prints the run's configuration and the data set sizes.
  void start(std::size_t train_samples, std::size_t test_samples, std::size_t parameters);
  /// Prints and logs one epoch. @p train_seconds counts training steps only (not evaluation), and
  /// @p timed_samples the samples trained in those seconds (fewer than train.samples in an epoch
  /// resumed from a checkpoint, whose earlier samples were trained by another process).
  void epoch(int epoch, const EpochStats& train, const Evaluation& test, double train_seconds, double seconds,
             std::size_t timed_samples);
  /// Prints where the time went and the final result; logs the final record and commits the log.
  void finish(const Evaluation& test, long steps, std::span<const float> params, const PhaseTimer& phases,
              double seconds);

 private:
  std::string program_;
  TrainConfig cfg_;
  std::vector<int> sizes_;
  MetricsLog& log_;
  nlohmann::json extra_ = nlohmann::json::object();
  bool quiet_ = false;
  double samples_per_s_sum_ = 0.0;
  int epochs_seen_ = 0;
};

/// @brief Formats a rate compactly: 51234 -> "51.2k".
std::string human_rate(double per_second);

}  // namespace ptt
