// ch02_false_sharing — what happens when threads write to neighbouring memory.
//
// Each thread adds to its OWN accumulator; no data is shared. But caches move memory in 64-byte
// lines: when the accumulators of several threads sit in one line, every write by one core
// invalidates that line in the others' caches, and the line bounces between cores ("false
// sharing"). Padding each accumulator to its own line (alignas(64)) removes the traffic. This is
// why chapter 02's GradientBuffers and ShardStats start every thread's data on its own line.
//
// Usage: ch02_false_sharing [--threads N] [--iterations N] [--repeats N]
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <vector>

#include "ptt/cli.hpp"
#include "ptt/error.hpp"
#include "ptt/timer.hpp"

namespace {

struct Packed {
  double value;  // 8 bytes: eight threads' accumulators share one cache line
};
struct alignas(64) Padded {
  double value;  // one cache line per accumulator
};

// Every thread adds 1 to its own slot `iterations` times. The volatile access forces a real
// load and store each time, as an accumulator updated in a loop over memory would.
template <typename Slot>
double run(int threads, long iterations) {
  std::vector<Slot> slots(static_cast<std::size_t>(threads));
  ptt::Stopwatch clock;
#pragma omp parallel num_threads(threads)
  {
    volatile double* mine = &slots[static_cast<std::size_t>(omp_get_thread_num())].value;
    for (long i = 0; i < iterations; ++i) *mine = *mine + 1.0;
  }
  return clock.seconds() * 1e9 / static_cast<double>(iterations);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  return ptt::run_main("ch02_false_sharing", [&] {
    int threads = omp_get_num_procs();
    long iterations = 20'000'000;
    int repeats = 5;
    CLI::App app{"Chapter 02: the cost of false sharing."};
    app.add_option("--threads", threads, "threads")->capture_default_str()->check(CLI::Range(1, 256));
    app.add_option("--iterations", iterations, "additions per thread")
        ->capture_default_str()
        ->check(CLI::Range(1L, 1L << 40));
    app.add_option("--repeats", repeats, "repeats (median reported)")
        ->capture_default_str()
        ->check(CLI::Range(1, 100));
    if (auto code = ptt::parse_args(app, argc, argv)) return *code;
    std::printf(
        "| threads | packed (one line) ns/add | padded (own line) ns/add | slowdown "
        "|\n|---:|---:|---:|---:|\n");
    for (int t = 1; t <= threads; ++t) {
      std::vector<double> packed, padded;
      for (int r = 0; r < repeats; ++r) {
        packed.push_back(run<Packed>(t, iterations));
        padded.push_back(run<Padded>(t, iterations));
      }
      std::printf("| %d | %.2f | %.2f | %.1fx |\n", t, median(packed), median(padded),
                  median(packed) / median(padded));
    }
    return 0;
  });
}
