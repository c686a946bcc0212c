// ch08_calibrate — measure this machine's rates for chapter 08's cost model and write them as
// machine.json (solutions/ch08/machine.hpp), each value with how it was obtained.
//
//   flops_fp32        the trainer's GEMMs: every layer's forward product Y = X W^T + b
//                     (ptt::linear_forward, Eigen on ONE thread) at the MLP's shapes and batch,
//                     median of --repeats; the rate is all their FLOPs over all their time.
//   gemm_fp32         the rate as a function of the rows: every layer's forward product and its
//                     backward products (dW = dY^T X and dX = dY W, ptt::linear_backward; no dX for
//                     the first layer) at each row count of --rows (8, 16, ..., 1024), one thread
//                     per worker; "1_thread": one worker alone, "all_cores": every core running
//                     its own worker at once, the slowest one's time (a data-parallel step waits
//                     for it). Each sample runs the products >= --sample-ms (25 ms); median of
//                     --repeats.
//   flops_mixed       not measured (Eigen has no 16-bit GEMM here): the fp32 rate, labelled so.
//   memory_bandwidth  a copy of a --copy-mb buffer (std::memcpy), read + written bytes over the
//                     best of --repeats.
//   links             not measured here: this program stays MPI-free. --links FILE takes them
//                     from chapter 03's all-reduce benchmark (ch03_allreduce_bench --json, one
//                     record per link in JSON Lines: scripts/bench_ch03_hosts.py's
//                     chapters/03_mpi_data_parallel/results_two_hosts.jsonl, or the file
//                     scripts/bench_ch08.py measures on this machine): the MPI_Allreduce times over
//                     shared memory and over TCP between two network namespaces, fitted by
//                     fit_allreduce_link, become the links inside a node (a record on at most
//                     as many ranks as cores) and between nodes; a shared-memory record on more
//                     ranks than cores, when there is one, becomes oversubscribed_link.
//                     Without it, --link-alpha-us / --link-gbps, labelled as given.
//   thread_link       between two threads of one process (chapters 02 and 05): alpha the time for
//                     every core's thread to pass a std::barrier (median of --repeats x 2000), beta
//                     1 / memory_bandwidth; ch08_plan --threads uses it inside a node.
//   workers, memory   one worker per core (--workers-per-node, default: the cores), the node's
//                     physical memory shared between them.
//
// Usage: ch08_calibrate --out machine.json [--hidden 256,128] [--batch 128] [--repeats 7]
//                       [--rows 8,16,32,64,128,256,512,1024]
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ch08/machine.hpp"
#include "ptt/cli.hpp"
#include "ptt/error.hpp"
#include "ptt/layers.hpp"
#include "ptt/tensor.hpp"
#include "ptt/timer.hpp"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The link `link` ("shared memory" or "veth") of a JSON Lines file of all-reduce measurements
// (scripts/bench_ch03_hosts.py's, or bench_ch08.py's of this machine): the alpha-beta fit of its
// MPI_Allreduce times over every size (fit_allreduce_link), from its first record on `min_ranks`
// to `max_ranks` ranks; the record's command and the machine record's date go to `source`.
// nullopt when there is no such record.
std::optional<ptt::ch08::Link> measured_link(const std::string& path, const std::string& link,
                                             std::string& source, int min_ranks, int max_ranks, int cores) {
  std::ifstream in(path);
  ptt::require_input(static_cast<bool>(in), "--links: cannot open " + path);
  std::string line, date = "?";
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const auto r = nlohmann::json::parse(line, nullptr, false);
    const std::string where = "--links: " + path + " line " + std::to_string(number);
    ptt::require_input(!r.is_discarded() && r.is_object(), where + " is not a JSON object");
    if (r.value("kind", "") == "machine") date = r.value("date", "?");
    if (r.value("kind", "") != "allreduce" || r.value("link", "") != link) continue;
    const auto& sizes = r.contains("sizes") ? r["sizes"] : nlohmann::json();
    ptt::require_input(
        sizes.is_array() && r.contains("ranks") && r["ranks"].is_number_integer(),
        where + ": the '" + link + "' record needs 'ranks' and 'sizes' (ch03_allreduce_bench --json)");
    const int ranks = r["ranks"].get<int>();
    if (ranks < min_ranks || ranks > max_ranks) continue;
    std::vector<ptt::ch08::AllreduceSample> samples;
    for (const auto& s : sizes) {
      ptt::require_input(s.is_object() && s.contains("bytes") && s["bytes"].is_number() &&
                             s.contains("mpi_s") && s["mpi_s"].is_number(),
                         where + ": every entry of 'sizes' needs numbers 'bytes' and 'mpi_s'");
      samples.push_back({s["bytes"].get<double>(), s["mpi_s"].get<double>()});
    }
    try {
      const ptt::ch08::Link fit = ptt::ch08::fit_allreduce_link(samples, ranks);
      source = "MPI_Allreduce alpha-beta fit over " + std::to_string(samples.size()) + " sizes on " +
               std::to_string(ranks) + " ranks" +
               (ranks > cores ? " sharing " + std::to_string(cores) + " cores" : std::string()) +
               " (least squares of the relative error) over " +
               (link == "veth"
                    ? "TCP between two network namespaces (a veth pair: the kernel's TCP stack, not a wire)"
                    : "shared memory") +
               ", measured on " + date.substr(0, 10) + " by `" + r.value("command", std::string("?")) +
               "` (" + path + ")";
      return fit;
    } catch (const ptt::InputError& e) {
      throw ptt::InputError(where + ": 'sizes': " + e.what());
    }
  }
  return std::nullopt;
}

// measured_link's link, or one line naming what the file lacks.
ptt::ch08::Link required_link(std::optional<ptt::ch08::Link> found, const std::string& path,
                              const std::string& link, const std::string& ranks) {
  ptt::require_input(found.has_value(),
                     "--links: " + path + " has no all-reduce record for the link '" + link + "'" + ranks);
  return *found;
}

// One worker's GEMMs at `rows` rows, on its own matrices: every layer's forward product, and its
// backward (dW, db, and dX unless it is the first layer), as the trainer runs them.
struct Products {
  std::vector<ptt::Matrix> X, W, Y, dY, dW, dX;
  std::vector<ptt::Vector> b, db;
  double forward_flops = 0, backward_flops = 0;

  Products(const std::vector<int>& widths, int rows) {
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
      const int in = widths[l], out = widths[l + 1];
      X.push_back(ptt::Matrix::Constant(rows, in, 0.5f));
      W.push_back(ptt::Matrix::Constant(out, in, 0.25f));
      b.push_back(ptt::Vector::Constant(out, 0.125f));
      Y.push_back(ptt::Matrix::Zero(rows, out));
      dY.push_back(ptt::Matrix::Constant(rows, out, 0.0625f));
      dW.push_back(ptt::Matrix::Zero(out, in));
      db.push_back(ptt::Vector::Zero(out));
      dX.push_back(ptt::Matrix::Zero(rows, in));
      const double nio = static_cast<double>(rows) * in * out;
      forward_flops += 2 * nio;
      backward_flops += (l == 0 ? 2 : 4) * nio;
    }
  }
  void forward() {
    for (std::size_t l = 0; l < X.size(); ++l) ptt::linear_forward(X[l], W[l], b[l], Y[l]);
  }
  void backward() {
    for (std::size_t l = 0; l < X.size(); ++l) {
      ptt::MatrixRef dx(dX[l]);
      ptt::linear_backward(X[l], W[l], dY[l], dW[l], db[l], l == 0 ? nullptr : &dx);
    }
  }
  // Believe no time before the products are right: every entry is a known constant.
  bool right(const std::vector<int>& widths, int rows) const {
    const auto near = [](float got, double want) { return std::abs(got - want) <= 1e-3 * want; };
    for (std::size_t l = 0; l < X.size(); ++l) {
      const double in = widths[l], out = widths[l + 1];
      if (!(near(Y[l](0, 0), 0.125 * in + 0.125) && near(dW[l](0, 0), 0.03125 * rows) &&
            (l == 0 || near(dX[l](0, 0), 0.015625 * out))))
        return false;
    }
    return true;
  }
};

// Seconds of `iters` runs of the forward (kind 0) or backward (kind 1) products.
double run(Products& p, int kind, int iters) {
  ptt::Stopwatch t;
  for (int i = 0; i < iters; ++i) kind == 0 ? p.forward() : p.backward();
  return t.seconds();
}

// The gemm_fp32 table: per row count, forward and backward FLOP/s of one worker alone, then of
// the slowest of `cores` workers running at once (std::thread each, started together). A shared
// machine's speed drifts over seconds, so the samples go round robin: repeat r samples every row
// count and kind before repeat r + 1 starts, and each cell's median mixes the whole run's moods
// rather than catching one slow second.
ptt::ch08::GemmTable measure_gemm_table(const std::vector<int>& widths, const std::vector<int>& ladder,
                                        int repeats, int cores, double sample_s) {
  const std::size_t cells = ladder.size() * 2;  // cell 2 i + kind: row count i, forward (0) or backward (1)
  std::vector<int> iters(cells);                // products per sample, chosen alone, reused busy
  std::vector<double> flops(cells);
  std::vector<std::vector<double>> alone(cells);
  {
    std::vector<Products> p;
    for (int rows : ladder) p.emplace_back(widths, rows);
    for (std::size_t c = 0; c < cells; ++c) {
      const int kind = static_cast<int>(c % 2);
      const double once = run(p[c / 2], kind, 1);  // warm-up, and the size of a sample
      iters[c] = static_cast<int>(std::clamp(std::ceil(sample_s / std::max(once, 1e-9)), 1.0, 1e6));
      flops[c] = kind == 0 ? p[c / 2].forward_flops : p[c / 2].backward_flops;
    }
    for (int r = 0; r < repeats; ++r)
      for (std::size_t c = 0; c < cells; ++c)
        alone[c].push_back(run(p[c / 2], static_cast<int>(c % 2), iters[c]) / iters[c]);
    for (std::size_t i = 0; i < ladder.size(); ++i)
      PTT_CHECK(p[i].right(widths, ladder[i]),
                "the products at " + std::to_string(ladder[i]) + " rows are wrong");
  }
  // Every core busy: the threads meet at a barrier before each sample; a sample's time is the
  // slowest thread's. A thread records a wrong product rather than throw (the others would wait at
  // the barrier for it forever).
  std::vector<std::vector<double>> seconds(
      static_cast<std::size_t>(cores));  // per thread: r-major, then cell
  std::vector<char> wrong(static_cast<std::size_t>(cores), 0);
  std::barrier meet(cores);
  std::vector<std::thread> threads;
  for (int t = 0; t < cores; ++t)
    threads.emplace_back([&, t] {
      std::vector<Products> p;
      for (int rows : ladder) p.emplace_back(widths, rows);
      for (std::size_t c = 0; c < cells; ++c) run(p[c / 2], static_cast<int>(c % 2), 1);
      for (int r = 0; r < repeats; ++r)
        for (std::size_t c = 0; c < cells; ++c) {
          meet.arrive_and_wait();
          seconds[t].push_back(run(p[c / 2], static_cast<int>(c % 2), iters[c]) / iters[c]);
        }
      for (std::size_t i = 0; i < ladder.size(); ++i)
        if (!p[i].right(widths, ladder[i])) wrong[t] = 1;
    });
  for (auto& t : threads) t.join();
  PTT_CHECK(std::count(wrong.begin(), wrong.end(), 1) == 0, "a product with every core busy is wrong");
  ptt::ch08::GemmTable g;
  for (std::size_t c = 0; c < cells; ++c) {
    std::vector<double> slowest;
    for (int r = 0; r < repeats; ++r) {
      double worst = 0;
      for (const auto& per_thread : seconds) worst = std::max(worst, per_thread[r * cells + c]);
      slowest.push_back(worst);
    }
    const bool forward = c % 2 == 0;
    auto& a = forward ? g.forward_alone : g.backward_alone;
    auto& b = forward ? g.forward_busy : g.backward_busy;
    for (auto* table : {&a, &b}) table->rows.push_back(ladder[c / 2]);
    a.flops_per_s.push_back(flops[c] / median(alone[c]));
    b.flops_per_s.push_back(flops[c] / median(slowest));
  }
  return g;
}

// The thread hand-off of chapters 02 and 05: how long `cores` threads take to pass a barrier
// together (std::barrier, as the threads of one process meet before they sum or hand over a
// buffer); the median over `repeats` runs of 2000 passages.
double barrier_latency(int cores, int repeats) {
  constexpr int kPasses = 2000;
  std::barrier meet(cores);
  std::vector<double> per_pass(static_cast<std::size_t>(repeats));
  std::vector<std::thread> threads;
  for (int t = 0; t < cores; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < repeats; ++r) {
        meet.arrive_and_wait();
        ptt::Stopwatch watch;
        for (int i = 0; i < kPasses; ++i) meet.arrive_and_wait();
        if (t == 0) per_pass[static_cast<std::size_t>(r)] = watch.seconds() / kPasses;
      }
    });
  for (auto& t : threads) t.join();
  return std::max(median(per_pass), 1e-9);
}

}  // namespace

int main(int argc, char** argv) {
  return ptt::run_main("ch08_calibrate", [&] {
    std::string out_path, hidden = "256,128", name = "this-host", links,
                          rows_list = "8,16,32,64,128,256,512,1024";
    int batch = 128, repeats = 7, copy_mb = 256, workers_per_node = 0, sample_ms = 25;
    double link_alpha_us = 1.0, link_gbps = 10.0;
    CLI::App app{"Chapter 08: measure GEMM FLOP/s and memory bandwidth, write machine.json."};
    app.add_option("--out", out_path, "machine.json to write")->required();
    app.add_option("--name", name, "the machine's name in the file")->capture_default_str();
    app.add_option("--hidden", hidden, "the MLP's hidden widths (784 in, 10 out)")->capture_default_str();
    app.add_option("--batch", batch, "rows of the products")
        ->capture_default_str()
        ->check(CLI::Range(1, 1 << 16));
    app.add_option("--rows", rows_list, "row counts of the gemm_fp32 table, increasing")
        ->capture_default_str();
    app.add_option("--repeats", repeats, "timed repeats (median / best)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    app.add_option("--sample-ms", sample_ms,
                   "a GEMM table sample runs the products this long at least (a shared machine's "
                   "noise averages out over longer samples)")
        ->capture_default_str()
        ->check(CLI::Range(1, 10000));
    app.add_option("--copy-mb", copy_mb, "size of the copied buffer, MB")
        ->capture_default_str()
        ->check(CLI::Range(1, 1 << 14));
    app.add_option("--workers-per-node", workers_per_node, "workers per node (default: the cores)")
        ->check(CLI::Range(1, 1 << 16));
    app.add_option("--link-alpha-us", link_alpha_us, "link latency, microseconds (not measured here)")
        ->capture_default_str()
        ->check(CLI::Range(1e-6, 1e9));
    app.add_option("--link-gbps", link_gbps, "link bandwidth, GB/s (not measured here)")
        ->capture_default_str()
        ->check(CLI::Range(1e-6, 1e9));
    app.add_option(
           "--links", links,
           "the links from chapter 03's all-reduce benchmark (JSON Lines of ch03_allreduce_bench records, "
           "as scripts/bench_ch03_hosts.py writes): shared memory inside a node, TCP between nodes, "
           "each fitted to its MPI_Allreduce times")
        ->excludes("--link-alpha-us")
        ->excludes("--link-gbps");
    if (auto code = ptt::parse_args(app, argc, argv)) return *code;
    Eigen::setNbThreads(1);  // one worker is one thread: its rate, not the node's

    std::vector<int> widths{784};
    for (int h : ptt::parse_size_list(hidden, "--hidden")) widths.push_back(h);
    widths.push_back(10);
    const std::vector<int> ladder = ptt::parse_size_list(rows_list, "--rows");
    for (std::size_t i = 1; i < ladder.size(); ++i)
      ptt::require_input(ladder[i] > ladder[i - 1],
                         "--rows: the row counts must increase (" + rows_list + ")");
    ptt::require_input(ladder.back() <= (1 << 16), "--rows: at most 65536 rows");
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    // The links first: a bad --links file is refused before a minute of measuring, not after.
    ptt::ch08::Machine m;
    if (links.empty()) {
      m.intra_node = m.inter_node = {link_alpha_us * 1e-6, 1.0 / (link_gbps * 1e9)};
      m.sources["intra_node"] = m.sources["inter_node"] =
          "NOT measured (ch08_calibrate is MPI-free): --link-alpha-us / --link-gbps as given";
    } else {  // chapter 03's measurements: shared memory inside the node, TCP between "hosts"
      // Inside a node: a record on at most as many ranks as cores (2 count as within even on one
      // core). A crowded node's, when the file has one (bench_ch08.py measures one on as many
      // ranks as its largest run): a record on more.
      const int within = std::max(2, cores), any = std::numeric_limits<int>::max();
      m.intra_node =
          required_link(measured_link(links, "shared memory", m.sources["intra_node"], 1, within, cores),
                        links, "shared memory", " on at most " + std::to_string(within) + " ranks");
      m.inter_node = required_link(measured_link(links, "veth", m.sources["inter_node"], 1, any, cores),
                                   links, "veth", "");
      std::string source;
      m.oversubscribed_link = measured_link(links, "shared memory", source, within + 1, any, cores);
      if (m.oversubscribed_link) m.sources["oversubscribed_link"] = source;
    }
    ptt::Stopwatch calibration;

    // GEMMs: each layer's forward product at the MLP's shape, timed together per repeat.
    std::vector<ptt::Matrix> X, W, Y;
    std::vector<ptt::Vector> b;
    double flops = 0;
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
      X.push_back(ptt::Matrix::Constant(batch, widths[l], 0.5f));
      W.push_back(ptt::Matrix::Constant(widths[l + 1], widths[l], 0.25f));
      b.push_back(ptt::Vector::Constant(widths[l + 1], 0.125f));
      Y.push_back(ptt::Matrix::Zero(batch, widths[l + 1]));
      flops += 2.0 * batch * widths[l] * static_cast<double>(widths[l + 1]);
    }
    std::vector<double> gemm_s;
    for (int r = 0; r <= repeats; ++r) {  // the first round warms up and is not counted
      ptt::Stopwatch t;
      for (std::size_t l = 0; l < X.size(); ++l) ptt::linear_forward(X[l], W[l], b[l], Y[l]);
      if (r > 0) gemm_s.push_back(t.seconds());
    }
    // Check the products before believing their time: every output is 0.5 * 0.25 * I + 0.125.
    for (std::size_t l = 0; l < X.size(); ++l) {
      const float want = 0.125f * static_cast<float>(widths[l]) + 0.125f;
      PTT_CHECK(std::abs(Y[l](0, 0) - want) <= 1e-3f * want,
                "layer " + std::to_string(l) + " product is wrong");
    }
    const double flops_rate = flops / median(gemm_s);

    // Memory bandwidth: a copy reads and writes every byte once.
    const std::size_t bytes = static_cast<std::size_t>(copy_mb) << 20;
    std::vector<char> src(bytes, 1), dst(bytes, 0);
    double best = 1e30;
    for (int r = 0; r <= repeats; ++r) {
      ptt::Stopwatch t;
      std::memcpy(dst.data(), src.data(), bytes);
      if (r > 0) best = std::min(best, t.seconds());
    }
    PTT_CHECK(dst[bytes - 1] == 1, "the copy did not happen");
    const double bandwidth = 2.0 * static_cast<double>(bytes) / best;

    if (workers_per_node == 0) workers_per_node = cores;
    const double handoff = barrier_latency(cores, repeats);
    const ptt::ch08::GemmTable table = measure_gemm_table(widths, ladder, repeats, cores, sample_ms * 1e-3);
    const double node_memory =
        static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));

    m.name = name;
    m.flops_fp32 = flops_rate;
    m.sources["flops_fp32"] = "measured by ch08_calibrate: forward GEMMs of 784-" + hidden + "-10 at batch " +
                              std::to_string(batch) + ", Eigen, 1 thread, median of " +
                              std::to_string(repeats);
    m.gemm_fp32 = table;
    m.sources["gemm_fp32"] =
        "measured by ch08_calibrate: GEMMs of 784-" + hidden + "-10 (forward; backward dW " +
        "and dX, no dX for the first layer), Eigen, 1 thread per worker, at rows " + rows_list +
        "; *_1_thread: one worker alone, *_all_cores: " + std::to_string(cores) +
        " workers at once, the slowest; median of " + std::to_string(repeats) +
        " samples of >= " + std::to_string(sample_ms) + " ms";
    m.flops_mixed = flops_rate;
    m.sources["flops_mixed"] = "not measured (no 16-bit GEMM in Eigen here): the fp32 rate";
    m.memory_bandwidth = bandwidth;
    m.sources["memory_bandwidth"] = "measured by ch08_calibrate: memcpy of " + std::to_string(copy_mb) +
                                    " MB, read + write, best of " + std::to_string(repeats);
    m.thread_link = ptt::ch08::Link{handoff, 1.0 / bandwidth};
    m.sources["thread_link"] = "measured by ch08_calibrate: alpha = " + std::to_string(cores) +
                               " threads passing a std::barrier, median of " + std::to_string(repeats) +
                               " x 2000 passages; beta = 1 / memory_bandwidth (threads sum and hand over "
                               "buffers through memory)";
    m.workers_per_node = workers_per_node;
    m.sources["workers_per_node"] =
        "--workers-per-node, default the cores (std::thread::hardware_concurrency)";
    m.cores_per_node = cores;
    m.sources["cores_per_node"] = "std::thread::hardware_concurrency";
    m.memory_bytes = node_memory / workers_per_node;
    m.sources["memory_bytes"] = "physical memory (sysconf) / workers per node";
    ptt::ch08::save_machine(m, out_path);
    std::printf(
        "GEMM %.2f GFLOP/s (1 thread), copy %.2f GB/s, thread barrier %.2f us, %d cores, %.1f GB per worker "
        "-> %s\n",
        flops_rate / 1e9, bandwidth / 1e9, handoff * 1e6, cores, m.memory_bytes / 1e9, out_path.c_str());
    std::printf(
        "GEMM GFLOP/s by rows     forward 1 thread  backward 1 thread  forward %d busy  backward %d busy\n",
        cores, cores);
    for (std::size_t i = 0; i < ladder.size(); ++i)
      std::printf("%24d %17.2f %18.2f %16.2f %17.2f\n", ladder[i], table.forward_alone.flops_per_s[i] / 1e9,
                  table.backward_alone.flops_per_s[i] / 1e9, table.forward_busy.flops_per_s[i] / 1e9,
                  table.backward_busy.flops_per_s[i] / 1e9);
    std::printf("calibration took %.1f s\n", calibration.seconds());
    return 0;
  });
}
