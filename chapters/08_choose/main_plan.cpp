// ch08_plan — choose a layout before renting the machine: every dp x pp x tp grid of W workers
// (with m micro-batches, a schedule and a ZeRO stage) predicted by chapter 08's cost model
// (solutions/ch08/cost_model.cpp) and ranked by samples per second among those that fit.
//
// Usage: ch08_plan --hidden 8192,8192,8192 --batch 4096 --workers 512 --machine h100-cluster
//                  [--memory-gb 80] [--optimizer sgd|adam] [--precision fp32|mixed] [--top N]
//                  [--json FILE] [--explain "dp=..,pp=..,tp=..,m=..,zero=..,schedule=.."]
//                  [--save-machine FILE]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "ch08/cost_model.hpp"
#include "ch08/machine.hpp"
#include "ch08/planner.hpp"
#include "ptt/cli.hpp"
#include "ptt/error.hpp"

namespace {

using namespace ptt::ch08;

void print_breakdown(const Layout& l, const Prediction& p, const Machine& machine) {
  std::printf("layout %s\n", l.describe().c_str());
  std::printf("  compute          %10.3f ms  (GEMMs of the slowest stage, m = %d)\n", 1e3 * p.compute_s, l.m);
  std::printf("  tp all-reduces   %10.3f ms\n", 1e3 * p.tp_comm_s);
  std::printf("  pp sends         %10.3f ms\n", 1e3 * p.pp_comm_s);
  std::printf("  bubble           %10.3f ms\n", 1e3 * p.bubble_s);
  std::printf("  dp all-reduce    %10.3f ms, of which exposed %.3f ms\n", 1e3 * p.dp_comm_s,
              1e3 * p.dp_exposed_s);
  std::printf("  optimizer update %10.3f ms\n", 1e3 * p.update_s);
  if (machine.cores_per_node > 0)
    std::printf("  contention       %.2f busy workers on %d cores: %s x %.2f\n", p.busy_workers,
                machine.cores_per_node,
                p.crowded_link ? "compute and update (messages inside the node as measured on "
                                 "oversubscribed_link)"
                               : "every term",
                std::max(1.0, p.busy_workers / machine.cores_per_node));
  if (const std::vector<int> cores = place_on_cores(l, machine); !cores.empty()) {
    std::printf("  placement        core of rank 0, 1, ...:");
    for (const int c : cores) std::printf(" %d", c);
    std::printf("  (a pipeline's stages share a core, a tp group spreads)\n");
  }
  std::printf("  step             %10.3f ms = %.0f samples/s\n", 1e3 * p.step_s, p.samples_per_s);
  std::printf(
      "  memory per worker: params %.2f GB, grads %.2f GB, optimizer %.2f GB, activations %.2f GB, "
      "buffers %.2f GB = %.2f GB of %.2f GB (%s)\n",
      p.memory.params / 1e9, p.memory.grads / 1e9, p.memory.optimizer / 1e9, p.memory.activations / 1e9,
      p.memory.buffers / 1e9, p.memory.total() / 1e9, machine.memory_bytes / 1e9,
      p.fits ? "fits" : "does not fit");
}

nlohmann::json entry_json(const PlanEntry& e, const Model& model, const Machine& machine) {
  const Layout& l = e.layout;
  const Prediction& p = e.prediction;
  nlohmann::json j = {
      {"dp", l.dp},
      {"pp", l.pp},
      {"tp", l.tp},
      {"m", l.m},
      {"schedule", l.schedule == Schedule::gpipe ? "gpipe" : "1f1b"},
      {"zero", l.zero},
      {"step_s", p.step_s},
      {"samples_per_s", p.samples_per_s},
      {"compute_s", p.compute_s},
      {"tp_comm_s", p.tp_comm_s},
      {"pp_comm_s", p.pp_comm_s},
      {"bubble_s", p.bubble_s},
      {"dp_comm_s", p.dp_comm_s},
      {"dp_exposed_s", p.dp_exposed_s},
      {"update_s", p.update_s},
      {"busy_workers", p.busy_workers},
      {"crowded_link", p.crowded_link},
      {"memory_bytes", p.memory.total()},
      {"fits", p.fits},
      // Added for scripts/ch08_pages.py: the memory's parts and the planner's one-line reason.
      {"memory_params_bytes", p.memory.params},
      {"memory_grads_bytes", p.memory.grads},
      {"memory_optimizer_bytes", p.memory.optimizer},
      {"memory_activations_bytes", p.memory.activations},
      {"memory_buffers_bytes", p.memory.buffers},
      {"reason", reason(e, model, machine)}};
  // A crowded node: the core of each worker the prediction assumes (bench_ch08.py pins the ranks there).
  if (const std::vector<int> cores = place_on_cores(l, machine); !cores.empty()) j["cores"] = cores;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  return ptt::run_main("ch08_plan", [&] {
    std::string hidden = "256,128", machine_name = "h100-cluster", json_path, explain, save_machine_path;
    int inputs = 784, outputs = 10, workers = 8, top = 10;
    double batch = 128, memory_gb = 0;
    std::string optimizer = "sgd";
    Precision precision = Precision::fp32;
    CLI::App app{"Chapter 08: rank every dp x pp x tp layout of W workers by predicted samples/s."};
    app.add_option("--hidden", hidden, "hidden widths, e.g. 8192,8192,8192")->capture_default_str();
    app.add_option("--inputs", inputs, "input width")->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--outputs", outputs, "output width (classes)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1 << 20));
    app.add_option("--batch", batch, "global batch B")->capture_default_str()->check(CLI::Range(1.0, 1e12));
    app.add_option("--workers", workers, "workers W (GPUs or ranks)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1 << 20));
    auto* memory_flag =
        app.add_option("--memory-gb", memory_gb, "memory per worker, GB (default: the machine's)");
    app.add_option("--machine", machine_name, "a profile (h100-cluster) or a machine.json file")
        ->capture_default_str();
    ptt::add_choice(app, "--optimizer", optimizer,
                    std::map<std::string, std::string>{{"sgd", "sgd"}, {"adam", "adam"}},
                    "sgd (momentum, k=1) or adam (k=2)");
    ptt::add_choice(app, "--precision", precision,
                    std::map<std::string, Precision>{{"fp32", Precision::fp32}, {"mixed", Precision::mixed}},
                    "fp32, or mixed (16-bit params and grads, fp32 master and state)");
    app.add_option("--top", top, "rows of the table")->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--json", json_path, "write every ranked layout to FILE (JSON)");
    app.add_option("--explain", explain,
                   "print every term of one layout, e.g. \"dp=64,pp=1,tp=8,m=1,zero=1\"");
    app.add_option("--save-machine", save_machine_path, "write the machine as machine.json to FILE");
    bool threads = false;
    app.add_flag(
        "--threads", threads,
        "the workers are threads of one process (chapters 02 and 05): inside a node they sum and hand "
        "over through memory at the machine's thread_link, not by MPI messages");
    if (auto code = ptt::parse_args(app, argc, argv)) return *code;
    ptt::require_input(memory_flag->count() == 0 || memory_gb > 0,
                       "--memory-gb: must be positive (got " + std::to_string(memory_gb) + ")");

    Model model;
    model.widths.push_back(inputs);
    for (int h : ptt::parse_size_list(hidden, "--hidden")) model.widths.push_back(h);
    model.widths.push_back(outputs);
    model.batch = batch;
    model.precision = precision;
    model.optimizer_k = optimizer == "adam" ? 2 : 1;
    Machine machine = resolve_machine(machine_name);
    if (memory_flag->count() > 0) machine.memory_bytes = memory_gb * 1e9;
    if (!save_machine_path.empty()) save_machine(machine, save_machine_path);
    if (threads) machine = with_thread_workers(machine);

    std::printf("model %s: %.4g parameters, batch %.0f, %s, %s; machine %s, %d workers, %.0f GB each\n",
                hidden.c_str(), model.params(), batch, optimizer.c_str(),
                precision == Precision::mixed ? "mixed precision" : "fp32", machine.name.c_str(), workers,
                machine.memory_bytes / 1e9);
    if (!explain.empty()) {
      const Layout layout = parse_layout(explain, "--explain");
      ptt::require_input(layout.dp * layout.pp * layout.tp == workers,
                         "--explain: dp x pp x tp = " + std::to_string(layout.dp * layout.pp * layout.tp) +
                             ", not --workers " + std::to_string(workers));
      const Prediction p = predict(model, layout, machine);
      ptt::require_input(p.invalid.empty(), "--explain: " + p.invalid);
      print_breakdown(layout, p, machine);
      return 0;
    }

    const auto ranked = plan(model, workers, machine);
    ptt::require_input(!ranked.empty(), "--workers: no dp x pp x tp layout of " + std::to_string(workers) +
                                            " workers can run this model (widths, layers, batch)");
    std::printf("%4s  %-34s %12s %9s %9s %9s %9s %9s %8s %5s\n", "rank", "layout", "samples/s", "step ms",
                "compute", "comm", "exposed", "bubble", "mem GB", "fits");
    const int shown = std::min<int>(top, static_cast<int>(ranked.size()));
    for (int r = 0; r < shown; ++r) {
      const Prediction& p = ranked[r].prediction;
      std::printf("%4d  %-34s %12.0f %9.3f %9.3f %9.3f %9.3f %9.3f %8.2f %5s\n", r + 1,
                  ranked[r].layout.describe().c_str(), p.samples_per_s, 1e3 * p.step_s, 1e3 * p.compute_s,
                  1e3 * (p.tp_comm_s + p.pp_comm_s + p.dp_comm_s),
                  1e3 * (p.tp_comm_s + p.pp_comm_s + p.dp_exposed_s), 1e3 * p.bubble_s,
                  p.memory.total() / 1e9, p.fits ? "yes" : "no");
    }
    std::printf(
        "(%zu layouts; comm = tp + pp + the whole dp all-reduce, exposed = tp + pp + the dp part not "
        "hidden behind the backward)\n",
        ranked.size());
    if (!ranked.front().prediction.fits)
      std::printf("no layout fits in %.2f GB per worker\n", machine.memory_bytes / 1e9);
    // Why: the best five grid shapes (dp, pp, tp, m); layouts that differ only in the schedule or
    // the ZeRO stage often predict the same step and would repeat the same reason.
    std::set<std::string> seen;
    for (std::size_t r = 0; r < ranked.size() && seen.size() < 5 && ranked[r].prediction.fits; ++r) {
      const Layout& l = ranked[r].layout;
      const std::string shape = std::to_string(l.dp) + "x" + std::to_string(l.pp) + "x" +
                                std::to_string(l.tp) + "x" + std::to_string(l.m);
      if (!seen.insert(shape).second) continue;
      std::printf("  %zu. %s: %s\n", r + 1, l.describe().c_str(), reason(ranked[r], model, machine).c_str());
    }
    if (!json_path.empty()) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& e : ranked) j.push_back(entry_json(e, model, machine));
      std::ofstream out(json_path);
      ptt::require_input(out.good(), "--json: cannot write " + json_path);
      out << j.dump(1) << '\n';
    }
    return 0;
  });
}
