// timeline.hpp — what every worker did and when: the raw material of the bubble and the trace.
//
// Each worker appends (worker, micro-batch, kind, start, end) to its OWN list, so recording needs
// no lock; the lists are merged only after the workers have joined. From the events:
//   - a Chrome trace JSON (chrome://tracing or https://ui.perfetto.dev), one row per worker;
//   - an ASCII timeline for the terminal;
//   - the measured bubble: the fraction of worker-time spent waiting,
//       bubble = 1 - (sum over workers of busy time) / (workers * span of the step).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "ptt/metrics_log.hpp"

namespace ptt::ch05 {

/// What a worker was doing.
enum class OpKind { Forward, Backward, AllReduce };

/// One interval of work on one worker; times in microseconds since the Timeline's origin.
struct Event {
  int worker = 0;
  int micro = 0;  ///< micro-batch (pipeline) or layer (tensor parallel)
  OpKind kind = OpKind::Forward;
  long step = 0;  ///< the optimizer step the event belongs to
  double start_us = 0, end_us = 0;
};

/// Per-worker event lists with a common clock origin.
class Timeline {
 public:
  using Clock = std::chrono::steady_clock;
  /// @param workers number of workers (rows); @param enabled false records nothing (no cost).
  Timeline(int workers, bool enabled);
  /// Microseconds since the origin, for the start and end of an event.
  double now_us() const;
  /// @brief Appends @p e to worker e.worker's list. Only that worker's thread may call this.
  void record(const Event& e);
  /// All events, ordered by start time (call after the workers joined).
  std::vector<Event> events() const;
  /// Forgets every event recorded so far (the origin stays).
  void clear();

 private:
  bool enabled_;
  Clock::time_point origin_;
  std::vector<std::vector<Event>> lists_;
};

/// The events of @p events that belong to step @p step, in their order.
std::vector<Event> events_of_step(const std::vector<Event>& events, long step);

/// @brief Writes @p events as a Chrome trace ("traceEvents" with complete "X" events), one thread
/// row per worker named "<row_name> k", into @p file (opened with MetricsLog(path, "--trace"),
/// so that a bad path fails before training), and commits it: the trace is complete or absent.
void write_chrome_trace(MetricsLog& file, const std::vector<Event>& events, int workers,
                        const std::string& row_name);

/// @brief One line per worker, @p width columns spanning the events: F forward, B backward,
/// R all-reduce, . idle; then each worker's order of operations ("F0 F1 B0 ...").
std::string ascii_timeline(const std::vector<Event>& events, int workers, const std::string& row_name,
                           int width = 72);

/// Busy time and span of a set of events: bubble = 1 - sum(busy) / (workers * span).
struct Utilisation {
  double span_us = 0;             ///< from the first event's start to the last one's end
  std::vector<double> busy_us;    ///< per worker: time computing (forward and backward)
  std::vector<double> reduce_us;  ///< per worker: time inside all-reduces (sending, waiting, adding)
  double bubble() const;
};
Utilisation utilisation(const std::vector<Event>& events, int workers);

/// The textbook bubble of a pipeline with @p stages balanced stages and @p micro micro-batches:
/// (p - 1) / (m + p - 1), the same for GPipe and 1F1B.
double predicted_bubble(int stages, int micro);

}  // namespace ptt::ch05
