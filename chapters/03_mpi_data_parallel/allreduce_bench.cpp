// ch03_allreduce_bench — allreduce bandwidth by size, and the alpha-beta model of the ring.
//
// Run under MPI:  mpiexec -n 2 ch03_allreduce_bench [--max-mb 64] [--repeats 9] [--json FILE]
//
// 1. alpha (latency) and B (bandwidth) from a ping-pong between ranks 0 and 1:
//    alpha = half the round trip of an 8-byte message; B = bytes / (half round trip - alpha) for
//    a large message.
// 2. For buffers from 4 KB to --max-mb: the median time of MPI_Allreduce and of our
//    ring_allreduce, their "bus bandwidth" 2 (p-1)/p * bytes / T (what each link carries), and the
//    ring's prediction T = 2 (p-1) alpha + 2 (p-1)/p * bytes / B.
// Rank 0 prints a Markdown table; --json writes the numbers for plots.
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "ch03/distributed.hpp"
#include "ch03/mpi_runtime.hpp"
#include "ch03/ring_allreduce.hpp"
#include "ptt/error.hpp"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median over `repeats` of the slowest rank's time for one call of `op` (after one warm-up).
template <typename Op>
double time_collective(int repeats, Op op) {
  std::vector<double> times;
  op();
  for (int r = 0; r < repeats; ++r) {
    PTT_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    const double t0 = MPI_Wtime();
    op();
    double t = MPI_Wtime() - t0, slowest = 0.0;
    PTT_MPI_CHECK(MPI_Allreduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
    times.push_back(slowest);
  }
  return median(times);
}

// Half the round trip of a message of `bytes` between ranks 0 and 1 (others idle).
double ping_pong(int rank, std::size_t bytes, int repeats) {
  std::vector<char> buf(std::max<std::size_t>(bytes, 1));
  const int n = static_cast<int>(bytes);
  return time_collective(
             repeats,
             [&] {
               if (rank == 0) {
                 PTT_MPI_CHECK(MPI_Send(buf.data(), n, MPI_BYTE, 1, 0, MPI_COMM_WORLD));
                 PTT_MPI_CHECK(MPI_Recv(buf.data(), n, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
               } else if (rank == 1) {
                 PTT_MPI_CHECK(MPI_Recv(buf.data(), n, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
                 PTT_MPI_CHECK(MPI_Send(buf.data(), n, MPI_BYTE, 0, 0, MPI_COMM_WORLD));
               }
             }) /
         2.0;
}

}  // namespace

int main(int argc, char** argv) {
  ptt::ch03::Mpi mpi(&argc, &argv);
  return ptt::ch03::run_main_mpi("ch03_allreduce_bench", [&] {
    int max_mb = 64, repeats = 9;
    std::string json_path;
    CLI::App app{"Chapter 03: allreduce bandwidth and the alpha-beta model (run with mpiexec -n P, P >= 2)."};
    app.add_option("--max-mb", max_mb, "largest buffer in MB")->capture_default_str();
    app.add_option("--repeats", repeats, "timed repeats per size (median)")->capture_default_str();
    app.add_option("--json", json_path, "write the results as JSON (rank 0)");
    std::optional<std::string> error;
    try {
      app.parse(argc, argv);
      ptt::require_input(max_mb >= 1 && max_mb <= 4096, "--max-mb: must be in [1, 4096]");
      ptt::require_input(repeats >= 1 && repeats <= 1000, "--repeats: must be in [1, 1000]");
      ptt::require_input(mpi.size() >= 2, "needs at least 2 ranks (mpiexec -n 2 ...)");
    } catch (const CLI::CallForHelp&) {
      if (mpi.rank() == 0) std::fputs(app.help().c_str(), stdout);
      return 0;
    } catch (const CLI::ParseError& e) {
      error = e.what();
    } catch (const ptt::InputError& e) {
      error = e.what();
    }
    ptt::ch03::agree(error, "ch03_allreduce_bench");
    const int p = mpi.size();
    const double alpha = ping_pong(mpi.rank(), 8, 200);
    const std::size_t big = 16u << 20;
    const double bandwidth = static_cast<double>(big) / (ping_pong(mpi.rank(), big, 15) - alpha);

    nlohmann::json out = {
        {"ranks", p}, {"alpha_s", alpha}, {"bandwidth_Bps", bandwidth}, {"sizes", nlohmann::json::array()}};
    if (mpi.rank() == 0) {
      std::printf("ranks %d; ping-pong: alpha = %.2f us, B = %.2f GB/s\n\n", p, alpha * 1e6, bandwidth / 1e9);
      std::printf(
          "| size | MPI_Allreduce ms | ring ms | ring / MPI bandwidth | ring bus GB/s | alpha-beta predicted "
          "ms | measured / predicted |\n");
      std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
    }
    for (std::size_t bytes = 4096; bytes <= static_cast<std::size_t>(max_mb) << 20; bytes *= 4) {
      std::vector<float> data(bytes / sizeof(float), 1.0f);
      const int reps = bytes >= (16u << 20) ? std::max(3, repeats / 3) : repeats;
      const double t_mpi = time_collective(reps, [&] { ptt::ch03::mpi_allreduce(data, MPI_COMM_WORLD); });
      const double t_ring = time_collective(reps, [&] { ptt::ch03::ring_allreduce(data, MPI_COMM_WORLD); });
      const double moved = 2.0 * (p - 1) / p * static_cast<double>(bytes);
      const double predicted = 2.0 * (p - 1) * alpha + moved / bandwidth;
      if (mpi.rank() == 0) {
        char size[32];
        if (bytes >= (1u << 20))
          std::snprintf(size, sizeof size, "%zu MB", bytes >> 20);
        else
          std::snprintf(size, sizeof size, "%zu KB", bytes >> 10);
        std::printf("| %s | %.3f | %.3f | %.2fx | %.2f | %.3f | %.2f |\n", size, t_mpi * 1e3, t_ring * 1e3,
                    t_mpi / t_ring, moved / t_ring / 1e9, predicted * 1e3, t_ring / predicted);
        out["sizes"].push_back(
            {{"bytes", bytes}, {"mpi_s", t_mpi}, {"ring_s", t_ring}, {"predicted_s", predicted}});
      }
    }
    if (mpi.rank() == 0 && !json_path.empty()) std::ofstream(json_path) << out.dump(2) << "\n";
    return 0;
  });
}
