// Chapter 05 benchmark: the pipeline bubble and activation memory, measured against theory.
//
//   1. Balanced synthetic stages: every forward takes --forward-ms, every backward twice that
//      (the usual ratio), spent sleeping, like a stage whose work runs on its own device. This
//      measures the SCHEDULE alone, for p = 2..4 and m = 1..16, independent of this machine's cores.
//   2. The real MLP (--hidden, default 784,784,784,784: five layers, four of equal cost, so that
//      2 and 4 stages balance) split into p stages: the same table with real compute. With more
//      stages than cores, the stages also compete for the cores.
//   3. Peak stored activations per stage, GPipe against 1F1B.
// Each cell is the median over --repeats steps (after one warm-up step), with the min-max spread.
// --json FILE writes every cell for docs/plots.
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ch05/pipeline_engine.hpp"
#include "ch05/pipeline_mlp.hpp"
#include "ptt/cli.hpp"
#include "ptt/data.hpp"
#include "ptt/error.hpp"
#include "ptt/metrics_log.hpp"
#include "ptt/mlp.hpp"
#include "ptt/rng.hpp"

namespace {

using ptt::ch05::Schedule;

/// A stage that takes a fixed time: sleeping stands for work done elsewhere (a GPU, another host).
class SleepStage final : public ptt::ch05::StageWork {
 public:
  explicit SleepStage(double forward_ms) : forward_ms_(forward_ms) {}
  ptt::Matrix forward(int, ptt::Matrix) override {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(forward_ms_));
    return ptt::Matrix::Zero(1, 1);
  }
  ptt::Matrix backward(int, ptt::Matrix) override {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(2 * forward_ms_));
    return ptt::Matrix::Zero(1, 1);
  }

 private:
  double forward_ms_;
};

struct Cell {
  double median = 0, lo = 0, hi = 0;
};
Cell summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

std::string pct(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%5.1f%%", 100.0 * x);
  return buf;
}
std::string cell_text(const Cell& c) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%5.1f%% (%.1f-%.1f)", 100.0 * c.median, 100.0 * c.lo, 100.0 * c.hi);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  return ptt::run_main("ch05_pipeline_bench", [&] {
    CLI::App app{"Chapter 05 benchmark: pipeline bubble and activation memory against theory."};
    double forward_ms = 1.0;
    int repeats = 5, batch = 256, max_stages = 4;
    std::vector<int> hidden{784, 784, 784, 784}, micros{1, 2, 4, 8, 16};
    std::string json_path, data_dir = ptt::default_data_dir();
    app.add_option("--forward-ms", forward_ms, "synthetic stage: milliseconds per forward (backward: twice)")
        ->capture_default_str();
    app.add_option("--repeats", repeats, "timed steps per cell (median reported)")->capture_default_str();
    app.add_option("--batch-size", batch, "mini-batch of the real MLP")->capture_default_str();
    app.add_option("--hidden", hidden, "hidden widths of the real MLP")
        ->delimiter(',')
        ->capture_default_str();
    app.add_option("--microbatches", micros, "micro-batch counts to measure")
        ->delimiter(',')
        ->capture_default_str();
    app.add_option("--max-stages", max_stages, "largest p")->capture_default_str();
    app.add_option("--json", json_path, "write every measurement to FILE");
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e);
    }
    ptt::require_input(forward_ms > 0 && forward_ms <= 1000, "--forward-ms: must be in (0, 1000]");
    ptt::require_input(repeats >= 1 && repeats <= 1000, "--repeats: must be in [1, 1000]");
    ptt::require_input(batch >= 1 && batch <= 65536, "--batch-size: must be in [1, 65536]");
    ptt::require_input(max_stages >= 2 && max_stages <= 16, "--max-stages: must be in [2, 16]");
    for (int m : micros)
      ptt::require_input(m >= 1 && m <= batch, "--microbatches: each must be in [1, --batch-size]");
    Eigen::setNbThreads(1);
    ptt::MetricsLog json(json_path);
    nlohmann::json rows = nlohmann::json::array();
    ptt::ch05::Timeline timeline(max_stages, true);

    // Runs one configuration repeats+1 times (the first is a warm-up); the bubbles of the timed steps.
    auto measure = [&](const std::vector<ptt::ch05::StageWork*>& stages, int m, Schedule s) {
      std::vector<double> bubbles;
      ptt::ch05::WorkerPool pool(
          static_cast<int>(stages.size()));  // the stages' threads, kept for every step
      for (int r = 0; r <= repeats; ++r) {
        timeline.clear();
        ptt::ch05::run_pipeline(pool, stages, m, s, timeline, r, std::chrono::milliseconds(60000));
        if (r > 0)
          bubbles.push_back(
              ptt::ch05::utilisation(timeline.events(), static_cast<int>(stages.size())).bubble());
      }
      return summarise(bubbles);
    };

    std::printf("Pipeline bubble: measured (median, min-max over %d steps) vs predicted (p-1)/(m+p-1)\n",
                repeats);
    std::printf("1) balanced synthetic stages (forward %.1f ms, backward %.1f ms, sleeping)\n", forward_ms,
                2 * forward_ms);
    std::printf("%3s %4s %9s %22s %22s\n", "p", "m", "predicted", "GPipe", "1F1B");
    std::vector<std::unique_ptr<SleepStage>> sleepers;
    for (int i = 0; i < max_stages; ++i) sleepers.push_back(std::make_unique<SleepStage>(forward_ms));
    for (int p = 2; p <= max_stages; ++p)
      for (int m : micros) {
        std::vector<ptt::ch05::StageWork*> stages;
        for (int i = 0; i < p; ++i) stages.push_back(sleepers[static_cast<std::size_t>(i)].get());
        const Cell g = measure(stages, m, Schedule::GPipe);
        const Cell f = measure(stages, m, Schedule::OneFOneB);
        const double pred = ptt::ch05::predicted_bubble(p, m);
        std::printf("%3d %4d %9s %22s %22s\n", p, m, pct(pred).c_str(), cell_text(g).c_str(),
                    cell_text(f).c_str());
        rows.push_back({{"kind", "synthetic"},
                        {"p", p},
                        {"m", m},
                        {"predicted", pred},
                        {"gpipe", g.median},
                        {"gpipe_min", g.lo},
                        {"gpipe_max", g.hi},
                        {"1f1b", f.median},
                        {"1f1b_min", f.lo},
                        {"1f1b_max", f.hi}});
      }

    // The real MLP on random data (the bubble does not depend on the values).
    const std::vector<int> sizes = ptt::mlp_sizes(784, hidden, 10);
    const ptt::ParamLayout layout(sizes);
    ptt::Matrix X(batch, 784);
    std::vector<std::uint8_t> y(static_cast<std::size_t>(batch));
    {
      auto rng = ptt::make_rng(1, ptt::RngPurpose::Synthetic, 0);
      std::uniform_real_distribution<float> u(0.0f, 1.0f);
      for (Eigen::Index k = 0; k < X.size(); ++k) X.data()[k] = u(rng);
      for (auto& label : y) label = static_cast<std::uint8_t>(rng() % 10);
    }
    std::vector<float> params(layout.size());
    ptt::he_init(layout, params, 1);
    std::string sizes_text;
    for (int w : sizes) sizes_text += (sizes_text.empty() ? "" : "-") + std::to_string(w);
    const int max_real = std::min(max_stages, layout.num_layers());
    std::printf("\n2) the real MLP %s, batch %d (stages balanced by multiply-adds; %u cores here)\n",
                sizes_text.c_str(), batch, std::thread::hardware_concurrency());
    std::printf("%3s %4s %9s %22s %22s %14s %14s %9s %9s\n", "p", "m", "predicted", "GPipe", "1F1B",
                "GPipe peak", "1F1B peak", "GPipe MB", "1F1B MB");
    for (int p = 2; p <= max_real; ++p)
      for (int m : micros) {
        Cell cells[2];
        std::vector<int> peaks[2];
        std::vector<std::size_t> floats[2];
        for (int k = 0; k < 2; ++k) {
          const Schedule s = k == 0 ? Schedule::GPipe : Schedule::OneFOneB;
          ptt::ch05::PipelineMlp pipe(layout, p, m, s, true);
          pipe.scatter_params(params);
          // The MLP runs its own steps (forward_backward), timed through its own timeline.
          std::vector<double> bubbles;
          for (int r = 0; r <= repeats; ++r) {
            pipe.timeline().clear();
            pipe.forward_backward(X, y);
            if (r > 0) bubbles.push_back(ptt::ch05::utilisation(pipe.timeline().events(), p).bubble());
          }
          cells[k] = summarise(bubbles);
          peaks[k] = pipe.peak_stored();
          floats[k] = pipe.peak_stored_floats();
        }
        const double pred = ptt::ch05::predicted_bubble(p, m);
        auto peak_text = [](const std::vector<int>& v) {
          std::string s;
          for (int x : v) s += (s.empty() ? "" : "/") + std::to_string(x);
          return s;
        };
        double mb[2] = {0, 0};  // the largest stage's stored activations
        for (int k = 0; k < 2; ++k)
          for (std::size_t f : floats[k]) mb[k] = std::max(mb[k], 4.0 * static_cast<double>(f) / 1e6);
        std::printf("%3d %4d %9s %22s %22s %14s %14s %9.1f %9.1f\n", p, m, pct(pred).c_str(),
                    cell_text(cells[0]).c_str(), cell_text(cells[1]).c_str(), peak_text(peaks[0]).c_str(),
                    peak_text(peaks[1]).c_str(), mb[0], mb[1]);
        rows.push_back({{"kind", "mlp"},
                        {"p", p},
                        {"m", m},
                        {"predicted", pred},
                        {"gpipe", cells[0].median},
                        {"gpipe_min", cells[0].lo},
                        {"gpipe_max", cells[0].hi},
                        {"1f1b", cells[1].median},
                        {"1f1b_min", cells[1].lo},
                        {"1f1b_max", cells[1].hi},
                        {"gpipe_peak", peaks[0]},
                        {"1f1b_peak", peaks[1]},
                        {"gpipe_peak_mb", mb[0]},
                        {"1f1b_peak_mb", mb[1]}});
      }
    std::printf(
        "(peak: micro-batches whose activations each stage held at once, stage 0/1/...;\n"
        " MB: the activations the fullest stage held at its peak)\n");
    if (json.enabled()) {
      json.write({{"bench", "ch05_pipeline"},
                  {"forward_ms", forward_ms},
                  {"repeats", repeats},
                  {"batch", batch},
                  {"sizes", sizes},
                  {"rows", rows}});
      json.commit();
    }
    return 0;
  });
}
