// timeline_report.hpp — what a run's timeline tells at its end: the ASCII timeline of one step,
// the bubble measured over every step (next to the theory's, for a pipeline), and with --trace
// the first steps as a Chrome trace.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ch05/timeline.hpp"
#include "ptt/metrics_log.hpp"
#include "ptt/report.hpp"

namespace ptt::ch05 {

/// Collects each step's timeline while a run trains, and reports it when the run ends.
class TimelineReport {
 public:
  /// The steps --trace writes (and the terminal shows one of).
  static constexpr long kTracedSteps = 4;

  /// @param workers          rows of the timeline.
  /// @param row_name         what a row is called: "stage" or "worker".
  /// @param trace_path       --trace FILE, or empty. Opened now, so a bad path fails (exit 2) before
  /// training.
  /// @param predicted_bubble the textbook bubble (p-1)/(m+p-1) for a pipeline; none for tensor parallelism.
  TimelineReport(int workers, std::string row_name, const std::string& trace_path,
                 std::optional<double> predicted_bubble);

  /// @brief Adds one step: @p u (the utilisation of @p events) to the measured bubble, and
  /// @p events to the trace if the step is among the first kTracedSteps.
  void add(const std::vector<Event>& events, const Utilisation& u);

  /// @brief Prints the timeline of step 2 (step 1 in a one-step run) and the bubble, writes the
  /// trace, and adds "bubble_measured" (and "bubble_predicted") to the final metrics record.
  void finish(Reporter& report);

 private:
  int workers_;
  std::string row_name_, trace_path_;
  std::optional<MetricsLog> trace_file_;
  std::optional<double> predicted_;
  std::vector<Event> traced_;  // the events of steps 1 .. kTracedSteps
  long last_step_ = 0;
  double busy_us_ = 0, worker_span_us_ = 0;  // summed over steps: bubble = 1 - busy / worker span
};

}  // namespace ptt::ch05
