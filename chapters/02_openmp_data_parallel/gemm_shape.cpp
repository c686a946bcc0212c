// ch02_gemm_shape — why splitting the batch costs more than the split suggests.
//
// One layer's forward product Y = X W^T + b (the core's linear_forward, as the trainer calls it),
// for a batch of n samples, timed four ways:
//
//   serial          one thread, all n rows: chapter 01's product.
//   half batch      one thread, n/T rows (n/2 for T = 2), alone: one thread's share of a batch
//                   split with nothing running beside it. serial / its time is the most a batch
//                   split can reach on T threads.
//   batch split     T threads at once, each its n/T rows against ALL of W (data parallelism).
//   neuron split    T threads at once, each its O/T neurons (rows of W) over ALL n rows
//                   (--reduce owner's forward, chapter 05's column-parallel layer).
//
// If "half batch" is slower per row than "serial", the batch split loses that much before any
// thread runs beside another one. (One cause: a GEMM packs both operands into cache-sized blocks
// first, and packing W costs the same whatever the batch, so on fewer rows it is spread over
// fewer samples.) Before timing, both splits are checked against the serial product.
//
// Usage: ch02_gemm_shape [--batch N] [--inputs N] [--outputs N] [--threads N] [--repeats N]
#include <omp.h>

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "ptt/cli.hpp"
#include "ptt/data.hpp"
#include "ptt/error.hpp"
#include "ptt/layers.hpp"
#include "ptt/tensor.hpp"
#include "ptt/timer.hpp"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Way {
  const char* name;
  int threads;   // threads that run at once
  double flops;  // of the rows and neurons computed
  std::function<void()> run;
  std::vector<double> ms;
};

}  // namespace

int main(int argc, char** argv) {
  return ptt::run_main("ch02_gemm_shape", [&] {
    int batch = 256, inputs = 1024, outputs = 1024, threads = std::max(2, omp_get_num_procs()), repeats = 21;
    CLI::App app{"Chapter 02: one layer's forward GEMM, split by samples or by neurons."};
    app.add_option("--batch", batch, "samples n")->capture_default_str()->check(CLI::Range(1, 1 << 16));
    app.add_option("--inputs", inputs, "layer inputs")->capture_default_str()->check(CLI::Range(1, 1 << 14));
    app.add_option("--outputs", outputs, "layer outputs (neurons)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1 << 14));
    app.add_option("--threads", threads, "threads T of the splits")
        ->capture_default_str()
        ->check(CLI::Range(2, 256));
    app.add_option("--repeats", repeats, "repeats, interleaved (median reported)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    if (auto code = ptt::parse_args(app, argc, argv)) return *code;
    Eigen::setNbThreads(1);  // every product below runs on the thread that calls it

    ptt::Matrix X = ptt::Matrix::Random(batch, inputs), W = ptt::Matrix::Random(outputs, inputs);
    ptt::Matrix Y = ptt::Matrix::Zero(batch, outputs);
    ptt::Vector b = ptt::Vector::Random(outputs);
    const ptt::Range part = ptt::shard_range(static_cast<std::size_t>(batch), 0, threads);
    const auto idx = [](std::size_t v) { return static_cast<Eigen::Index>(v); };

    const double flops = 2.0 * batch * inputs * static_cast<double>(outputs);
    std::vector<Way> ways;
    ways.push_back({"serial", 1, flops, [&] { ptt::linear_forward(X, W, b, Y); }, {}});
    ways.push_back(
        {"half batch",
         1,
         flops * static_cast<double>(part.size()) / batch,
         [&] { ptt::linear_forward(X.topRows(idx(part.size())), W, b, Y.topRows(idx(part.size()))); },
         {}});
    ways.push_back({"batch split",
                    threads,
                    flops,
                    [&] {
#pragma omp parallel num_threads(threads)
                      {
                        const ptt::Range s =
                            ptt::shard_range(static_cast<std::size_t>(batch), omp_get_thread_num(), threads);
                        if (s.size() > 0)
                          ptt::linear_forward(X.middleRows(idx(s.begin), idx(s.size())), W, b,
                                              Y.middleRows(idx(s.begin), idx(s.size())));
                      }
                    },
                    {}});
    ways.push_back({"neuron split",
                    threads,
                    flops,
                    [&] {
#pragma omp parallel num_threads(threads)
                      {
                        const ptt::Range r = ptt::shard_range(static_cast<std::size_t>(outputs),
                                                              omp_get_thread_num(), threads);
                        if (r.size() > 0)
                          ptt::linear_forward(X, W.middleRows(idx(r.begin), idx(r.size())),
                                              b.segment(idx(r.begin), idx(r.size())),
                                              Y.middleCols(idx(r.begin), idx(r.size())));
                      }
                    },
                    {}});
    // Check first: each split must give the serial product (to float rounding), or its time means
    // nothing. This also warms up (first touch, the thread pool).
    ways[0].run();
    const ptt::Matrix reference = Y;
    const float scale = std::max(reference.cwiseAbs().maxCoeff(), 1e-30f);
    for (std::size_t i = 1; i < ways.size(); ++i) {
      Y.setConstant(std::numeric_limits<float>::quiet_NaN());
      ways[i].run();
      const Eigen::Index rows = i == 1 ? idx(part.size()) : batch;  // half batch writes its rows only
      const float error = (Y.topRows(rows) - reference.topRows(rows)).cwiseAbs().maxCoeff() / scale;
      PTT_CHECK(error < 1e-5f, std::string(ways[i].name) + " differs from the serial product");
    }
    for (int rep = 0; rep < repeats; ++rep)
      for (auto& w : ways) {
        ptt::Stopwatch clock;
        w.run();
        w.ms.push_back(clock.seconds() * 1e3);
      }

    const double serial = median(ways[0].ms);
    std::printf("Y = X W^T + b, X [%d, %d], W [%d, %d]; T = %d; median of %d interleaved repeats\n\n", batch,
                inputs, outputs, inputs, threads, repeats);
    std::printf("| way | threads at once | ms (min-max) | GFLOP/s per thread | serial ms / this ms |\n");
    std::printf("|---|---:|---:|---:|---:|\n");
    for (auto& w : ways) {
      const double m = median(w.ms);
      std::printf("| %s | %d | %.3f (%.3f-%.3f) | %.1f | %.2fx |\n", w.name, w.threads, m,
                  *std::min_element(w.ms.begin(), w.ms.end()), *std::max_element(w.ms.begin(), w.ms.end()),
                  w.flops / (m * 1e6 * w.threads), serial / m);
    }
    std::printf(
        "\nhalf batch is %d rows on one thread, alone: its GFLOP/s against serial's is what the batch split "
        "loses\n"
        "to the product's shape alone, and its last column the most a batch split can reach on %d threads.\n",
        static_cast<int>(part.size()), threads);
    return 0;
  });
}
