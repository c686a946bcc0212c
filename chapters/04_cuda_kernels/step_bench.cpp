// ch04_step_bench — milliseconds per training step on the GPU: our kernels vs cuBLAS, CUDA graph
// vs eager launches, on synthetic data (no data set needed).
//
//   ch04_step_bench                      the default table (the shapes of scripts/bench_ch04.py)
//   ch04_step_bench --hidden 256,128 --batch-size 128 --gemm vectorized,cublas --json step.json
//
// A step is chapter 04's whole step (gather, forward, loss, backward, SGD-momentum update).
// Each configuration: 10 warm-up steps (the graph is captured there), then --repeats runs of
// --steps steps, timed with the wall clock around a device synchronize; the median is reported.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "ch04/cuda_check.hpp"
#include "ch04/device_trainer.hpp"
#include "ptt/cli.hpp"
#include "ptt/data.hpp"
#include "ptt/error.hpp"
#include "ptt/mlp.hpp"
#include "ptt/timer.hpp"

namespace {

struct Config {
  std::vector<int> hidden;
  int batch;
};

double ms_per_step(const Config& c, ptt::ch04::GemmKernel gemm, bool graph, int steps, int repeats) {
  constexpr int kFeatures = 784, kClasses = 10, kWarmup = 10;
  const ptt::Dataset data = ptt::make_synthetic(4096, kFeatures, kClasses, 1);
  ptt::Mlp model(ptt::mlp_sizes(kFeatures, c.hidden, kClasses));
  ptt::he_init(model.layout, model.params, 1);
  ptt::ch04::DeviceOptions opt;
  opt.gemm = gemm;
  opt.graph = graph;
  ptt::ch04::DeviceTrainer gpu(model.layout, c.batch, opt);
  gpu.upload_params(model.params);
  gpu.upload_train_set(data);
  // An "epoch" long enough for every step: indices wrap around the synthetic set.
  const int total = kWarmup + steps * repeats;
  std::vector<std::uint32_t> order(static_cast<std::size_t>(total) * c.batch);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>((i * 7919) % 4096);
  gpu.start_epoch(order, ptt::ch04::step_hyper_table("sgd", "constant", 0.01, 0, total, total));
  for (int i = 0; i < kWarmup; ++i) gpu.step(c.batch);
  gpu.synchronize();
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    ptt::Stopwatch clock;
    for (int i = 0; i < steps; ++i) gpu.step(c.batch);
    gpu.synchronize();
    ms.push_back(clock.seconds() * 1e3 / steps);
  }
  std::nth_element(ms.begin(), ms.begin() + static_cast<long>(ms.size() / 2), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  return ptt::run_main("ch04_step_bench", [&] {
    CLI::App app{"Chapter 04: ms per training step on the GPU (own kernels vs cuBLAS, graph vs eager)."};
    std::string hidden, gemms = "vectorized,warptiled,cublas", json_path;
    int batch = 0, steps = 100, repeats = 5;
    app.add_option("--hidden", hidden, "one network (e.g. 256,128); default: the standard table");
    app.add_option("--batch-size", batch, "its batch size")->check(CLI::Range(1, 1 << 20));
    app.add_option("--gemm", gemms, "comma-separated GEMM kernels")->capture_default_str();
    app.add_option("--steps", steps, "steps per timed run")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    app.add_option("--repeats", repeats, "timed runs (median)")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    app.add_option("--json", json_path, "also write the results as JSON");
    if (auto code = ptt::parse_args(app, argc, argv)) return *code;
    std::vector<Config> configs;
    if (!hidden.empty()) {
      ptt::require_input(batch > 0, "--batch-size: required with --hidden");
      configs.push_back({ptt::parse_size_list(hidden, "--hidden"), batch});
    } else {
      configs = {{{256, 128}, 128}, {{256, 128}, 1024}, {{4096, 4096, 4096}, 1024}};
    }
    std::vector<ptt::ch04::GemmKernel> kernels;
    for (std::size_t pos = 0; pos <= gemms.size();) {
      const std::size_t end = std::min(gemms.find(',', pos), gemms.size());
      kernels.push_back(ptt::ch04::gemm_kernel_from_name(gemms.substr(pos, end - pos), "--gemm"));
      pos = end + 1;
    }
    ptt::ch04::require_device();

    std::printf("| network | batch | gemm | eager ms/step | graph ms/step | graph speed-up |\n");
    std::printf("| --- | ---: | --- | ---: | ---: | ---: |\n");
    nlohmann::json out = nlohmann::json::array();
    for (const Config& c : configs) {
      std::string net = "784";
      for (int h : c.hidden) net += "-" + std::to_string(h);
      net += "-10";
      for (const auto k : kernels) {
        const double eager = ms_per_step(c, k, false, steps, repeats);
        const double graph = ms_per_step(c, k, true, steps, repeats);
        const std::string name = ptt::ch04::gemm_kernel_name(k);
        std::printf("| %s | %d | %s | %.3f | %.3f | %.2fx |\n", net.c_str(), c.batch, name.c_str(), eager,
                    graph, eager / graph);
        std::fflush(stdout);
        out.push_back(
            {{"network", net}, {"batch", c.batch}, {"gemm", name}, {"eager_ms", eager}, {"graph_ms", graph}});
      }
    }
    if (!json_path.empty()) {
      std::ofstream f(json_path);
      ptt::require_input(static_cast<bool>(f), "--json: cannot write " + json_path);
      f << out.dump(2) << "\n";
    }
    return 0;
  });
}
