// The timeline (see timeline.hpp): recording, the Chrome trace, the ASCII picture, the bubble.
#include "ch05/timeline.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <nlohmann/json.hpp>

#include "ptt/error.hpp"

namespace ptt::ch05 {

Timeline::Timeline(int workers, bool enabled)
    : enabled_(enabled), origin_(Clock::now()), lists_(static_cast<std::size_t>(workers)) {}

double Timeline::now_us() const {
  return std::chrono::duration<double, std::micro>(Clock::now() - origin_).count();
}

void Timeline::record(const Event& e) {
  if (enabled_) lists_.at(static_cast<std::size_t>(e.worker)).push_back(e);
}

std::vector<Event> Timeline::events() const {
  std::vector<Event> all;
  for (const auto& list : lists_) all.insert(all.end(), list.begin(), list.end());
  std::stable_sort(all.begin(), all.end(),
                   [](const Event& a, const Event& b) { return a.start_us < b.start_us; });
  return all;
}

void Timeline::clear() {
  for (auto& list : lists_) list.clear();
}

std::vector<Event> events_of_step(const std::vector<Event>& events, long step) {
  std::vector<Event> out;
  std::copy_if(events.begin(), events.end(), std::back_inserter(out),
               [&](const Event& e) { return e.step == step; });
  return out;
}

namespace {
const char* kind_name(OpKind k) {
  switch (k) {
    case OpKind::Forward:
      return "forward";
    case OpKind::Backward:
      return "backward";
    case OpKind::AllReduce:
      return "allreduce";
  }
  return "?";
}
char kind_letter(OpKind k) { return k == OpKind::Forward ? 'F' : k == OpKind::Backward ? 'B' : 'R'; }
}  // namespace

void write_chrome_trace(MetricsLog& file, const std::vector<Event>& events, int workers,
                        const std::string& row_name) {
  nlohmann::json trace_events = nlohmann::json::array();
  for (int w = 0; w < workers; ++w)  // metadata: names the rows
    trace_events.push_back({{"name", "thread_name"},
                            {"ph", "M"},
                            {"pid", 1},
                            {"tid", w},
                            {"args", {{"name", row_name + " " + std::to_string(w)}}}});
  for (const Event& e : events) {
    const std::string name = std::string(1, kind_letter(e.kind)) + std::to_string(e.micro);
    trace_events.push_back({{"name", name},
                            {"cat", kind_name(e.kind)},
                            {"ph", "X"},
                            {"pid", 1},
                            {"tid", e.worker},
                            {"ts", e.start_us},
                            {"dur", e.end_us - e.start_us},
                            {"args", {{"micro_batch", e.micro}, {"step", e.step}}}});
  }
  // MetricsLog writes to a temporary file and renames it into place on commit(): a trace is
  // complete or absent. The whole trace is one JSON object (one "line").
  file.write({{"traceEvents", trace_events}, {"displayTimeUnit", "ms"}});
  file.commit();
}

std::string ascii_timeline(const std::vector<Event>& events, int workers, const std::string& row_name,
                           int width) {
  if (events.empty()) return "(no events recorded)\n";
  double t0 = events.front().start_us, t1 = t0;
  for (const Event& e : events) {
    t0 = std::min(t0, e.start_us);
    t1 = std::max(t1, e.end_us);
  }
  const double per_column = std::max(t1 - t0, 1e-9) / width;
  std::vector<std::string> rows(static_cast<std::size_t>(workers),
                                std::string(static_cast<std::size_t>(width), '.'));
  std::vector<std::string> orders(static_cast<std::size_t>(workers));
  for (const Event& e : events) {
    auto& row = rows.at(static_cast<std::size_t>(e.worker));
    // A column shows the op that covers its middle; ops shorter than a column still get one.
    int first = static_cast<int>((e.start_us - t0) / per_column + 0.5);
    int last = static_cast<int>((e.end_us - t0) / per_column - 0.5);
    first = std::clamp(first, 0, width - 1);
    last = std::clamp(std::max(last, first), 0, width - 1);
    for (int c = first; c <= last; ++c) row[static_cast<std::size_t>(c)] = kind_letter(e.kind);
    auto& order = orders.at(static_cast<std::size_t>(e.worker));
    order += (order.empty() ? "" : " ");
    order += kind_letter(e.kind);
    order += std::to_string(e.micro);
  }
  std::string out;
  for (int w = 0; w < workers; ++w) {
    const std::string label = row_name + " " + std::to_string(w);
    out.append(label).append(" |").append(rows[static_cast<std::size_t>(w)]).append("|\n");
  }
  char span[64];
  std::snprintf(span, sizeof span, "%.3f ms", (t1 - t0) / 1000.0);
  out.append("(F forward, B backward, R all-reduce, . idle; the row spans ").append(span).append(")\n");
  for (int w = 0; w < workers; ++w)
    out.append(row_name)
        .append(" ")
        .append(std::to_string(w))
        .append(" order: ")
        .append(orders[static_cast<std::size_t>(w)])
        .append("\n");
  return out;
}

double Utilisation::bubble() const {
  if (busy_us.empty() || span_us <= 0) return 0.0;
  double busy = 0;
  for (double b : busy_us) busy += b;
  return 1.0 - busy / (static_cast<double>(busy_us.size()) * span_us);
}

Utilisation utilisation(const std::vector<Event>& events, int workers) {
  Utilisation u;
  u.busy_us.assign(static_cast<std::size_t>(workers), 0.0);
  u.reduce_us.assign(static_cast<std::size_t>(workers), 0.0);
  if (events.empty()) return u;
  double t0 = events.front().start_us, t1 = t0;
  for (const Event& e : events) {
    t0 = std::min(t0, e.start_us);
    t1 = std::max(t1, e.end_us);
    // Waiting inside an all-reduce is not useful work: only compute counts as busy.
    auto& time = e.kind == OpKind::AllReduce ? u.reduce_us : u.busy_us;
    time.at(static_cast<std::size_t>(e.worker)) += e.end_us - e.start_us;
  }
  u.span_us = t1 - t0;
  return u;
}

double predicted_bubble(int stages, int micro) {
  PTT_CHECK(stages >= 1 && micro >= 1, "predicted_bubble needs stages >= 1 and micro >= 1");
  return static_cast<double>(stages - 1) / static_cast<double>(micro + stages - 1);
}

}  // namespace ptt::ch05
