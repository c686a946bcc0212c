// A run's timeline, collected step by step and reported at the end (see timeline_report.hpp).
#include "ch05/timeline_report.hpp"

#include <algorithm>
#include <iostream>

namespace ptt::ch05 {

TimelineReport::TimelineReport(int workers, std::string row_name, const std::string& trace_path,
                               std::optional<double> predicted_bubble)
    : workers_(workers),
      row_name_(std::move(row_name)),
      trace_path_(trace_path),
      predicted_(predicted_bubble) {
  if (!trace_path_.empty()) trace_file_.emplace(trace_path_, "--trace");
}

void TimelineReport::add(const std::vector<Event>& events, const Utilisation& u) {
  if (events.empty()) return;
  last_step_ = events.front().step;
  for (double busy : u.busy_us) busy_us_ += busy;
  worker_span_us_ += u.span_us * workers_;
  if (last_step_ <= kTracedSteps) traced_.insert(traced_.end(), events.begin(), events.end());
}

void TimelineReport::finish(Reporter& report) {
  const double bubble = worker_span_us_ > 0 ? 1.0 - busy_us_ / worker_span_us_ : 0.0;
  report.extra()["bubble_measured"] = bubble;
  if (predicted_) report.extra()["bubble_predicted"] = *predicted_;
  const long show = std::min(2L, last_step_);
  std::cout << "\ntimeline of step " << show << ":\n"
            << ascii_timeline(events_of_step(traced_, show), workers_, row_name_);
  std::cout << "idle share of worker time (bubble), all steps: " << bubble;
  if (predicted_) std::cout << "   theory (p-1)/(m+p-1): " << *predicted_;
  std::cout << "\n";
  if (trace_file_) {
    write_chrome_trace(*trace_file_, traced_, workers_, row_name_);
    std::cout << "trace of steps 1-" << kTracedSteps << ": " << trace_path_ << "\n";
  }
}

}  // namespace ptt::ch05
