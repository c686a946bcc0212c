// The planner: enumerate, predict, rank, explain.
#include "ch08/planner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "ptt/error.hpp"

namespace ptt::ch08 {

std::vector<PlanEntry> plan(const Model& model, int workers, const Machine& machine) {
  std::vector<PlanEntry> out;
  for (int dp = 1; dp <= workers; ++dp) {
    if (workers % dp != 0) continue;
    for (int pp = 1; pp <= workers / dp; ++pp) {
      if ((workers / dp) % pp != 0) continue;
      const int tp = workers / dp / pp;
      for (int m = 1; m <= 64; m *= 2)
        for (Schedule schedule : {Schedule::gpipe, Schedule::one_f_one_b}) {
          if (schedule == Schedule::one_f_one_b && m == 1) continue;  // the same step as GPipe
          for (int zero = 0; zero <= (dp > 1 ? 3 : 0); ++zero) {
            const Layout layout{dp, pp, tp, m, schedule, zero};
            Prediction p = predict(model, layout, machine);
            if (p.invalid.empty()) out.push_back({layout, p});
          }
        }
    }
  }
  std::sort(out.begin(), out.end(), [](const PlanEntry& a, const PlanEntry& b) {
    if (a.prediction.fits != b.prediction.fits) return a.prediction.fits;
    const double ka = a.prediction.fits ? -a.prediction.samples_per_s : a.prediction.memory.total();
    const double kb = b.prediction.fits ? -b.prediction.samples_per_s : b.prediction.memory.total();
    if (ka != kb) return ka < kb;
    // The same speed: the one that needs less memory first (ZeRO-2 before ZeRO-1, 1F1B before GPipe).
    if (a.prediction.memory.total() != b.prediction.memory.total())
      return a.prediction.memory.total() < b.prediction.memory.total();
    return a.layout.describe() < b.layout.describe();
  });
  return out;
}

std::string reason(const PlanEntry& entry, const Model& model, const Machine& machine) {
  const Layout& l = entry.layout;
  const Prediction& p = entry.prediction;
  std::vector<std::string> parts;
  char buf[160];
  if (l.tp > 1) {
    std::snprintf(buf, sizeof buf, "tp %d %s (%.0f %% of the step)", l.tp,
                  l.tp <= machine.workers_per_node ? "keeps its all-reduces inside a node"
                                                   : "all-reduces activations across nodes",
                  100 * p.tp_comm_s / p.step_s);
    parts.emplace_back(buf);
  }
  if (l.pp > 1) {
    std::snprintf(buf, sizeof buf, "pp %d bubble %.0f %% at m=%d", l.pp, 100 * p.bubble_s / p.step_s, l.m);
    parts.emplace_back(buf);
  }
  if (l.dp > 1) {
    const double hidden = p.dp_comm_s > 0 ? 1 - p.dp_exposed_s / p.dp_comm_s : 1;
    std::snprintf(buf, sizeof buf, "dp %d all-reduce %.0f %% hidden behind the backward", l.dp, 100 * hidden);
    parts.emplace_back(buf);
  }
  if (l.zero > 0) {
    std::snprintf(buf, sizeof buf, "ZeRO-%d: %.3g GB per worker", l.zero, p.memory.total() / 1e9);
    parts.emplace_back(buf);
  }
  if (l.pp == 1 && l.tp == 1) parts.emplace_back("no bubble, no activation traffic");
  (void)model;
  std::string line;
  for (const auto& part : parts) line += (line.empty() ? "" : "; ") + part;
  return line;
}

Layout parse_layout(const std::string& text, const std::string& option) {
  Layout layout;
  std::stringstream in(text);
  std::string item;
  const auto bad = [&](const std::string& why) {
    throw InputError(option + ": " + why + " in '" + text + "'");
  };
  while (std::getline(in, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) bad("expected key=value, got '" + item + "'");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "schedule") {
      if (value == "gpipe")
        layout.schedule = Schedule::gpipe;
      else if (value == "1f1b")
        layout.schedule = Schedule::one_f_one_b;
      else
        bad("schedule must be gpipe or 1f1b");
      continue;
    }
    int v = 0;
    std::size_t used = 0;
    try {
      v = std::stoi(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != value.size() || v < 0) bad("'" + key + "' needs a non-negative integer");
    if (key == "dp")
      layout.dp = v;
    else if (key == "pp")
      layout.pp = v;
    else if (key == "tp")
      layout.tp = v;
    else if (key == "m")
      layout.m = v;
    else if (key == "zero")
      layout.zero = v;
    else
      bad("unknown key '" + key + "' (use dp, pp, tp, m, zero, schedule)");
  }
  if (layout.dp < 1 || layout.pp < 1 || layout.tp < 1 || layout.m < 1)
    bad("dp, pp, tp and m must be positive");
  if (layout.zero > 3) bad("zero must be 0, 1, 2 or 3");
  return layout;
}

}  // namespace ptt::ch08
