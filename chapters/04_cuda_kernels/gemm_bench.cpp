// ch04_gemm — chapter 04's GEMM stages on their own: validate each against the CPU, then time it.
//
//   ch04_gemm                                   the sweep: 1024, 2048, 4096 x every kernel
//   ch04_gemm --kernel smem --m 1000 --n 777 --k 333   one kernel, one shape
//   ch04_gemm --sweep --json gemm.json          the sweep, and its numbers for plots
//   ch04_gemm --list-devices                    the CUDA devices (exit 2: "no CUDA device")
//
// C[M, N] = A[M, K] B[K, N], row-major FP32, inputs uniform in [-1, 1) from the seeded RNG.
// Validation: relative Frobenius error ||C - C_ref|| / ||C_ref|| against Eigen's FP32 product,
// below 1e-4 for the FP32 kernels and 1e-2 for TF32 (10-bit mantissa); a kernel that fails is
// not timed and the program exits 1. Timing: 2 warm-up runs, then the median of --repeats runs
// measured with CUDA events. GFLOP/s = 2 M N K / time.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "ch04/cuda_check.hpp"
#include "ch04/device_trainer.hpp"
#include "ch04/gemm.hpp"
#include "ptt/cli.hpp"
#include "ptt/error.hpp"
#include "ptt/rng.hpp"
#include "ptt/tensor.hpp"

namespace {

using ptt::ch04::DeviceBuffer;
using ptt::ch04::GemmKernel;

struct Result {
  int m, n, k;
  std::string kernel;
  double ms = 0.0, gflops = 0.0, rel_error = 0.0;
  bool valid = false;
};

double rel_error(const std::vector<float>& c, const ptt::Matrix& ref) {
  double num = 0.0, den = 0.0;
  for (Eigen::Index i = 0; i < ref.size(); ++i) {
    const double d = static_cast<double>(c[static_cast<std::size_t>(i)]) - ref.data()[i];
    num += d * d;
    den += static_cast<double>(ref.data()[i]) * ref.data()[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

/// One shape: inputs, the CPU reference, then every requested kernel validated and timed.
void run_shape(int m, int n, int k, const std::vector<GemmKernel>& kernels, int repeats,
               cublasHandle_t cublas, std::vector<Result>& results) {
  auto rng = ptt::make_rng(1, ptt::RngPurpose::Test, static_cast<std::uint64_t>(m) * 131 + n * 7 + k);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  ptt::Matrix A(m, k), B(k, n);
  for (Eigen::Index i = 0; i < A.size(); ++i) A.data()[i] = u(rng);
  for (Eigen::Index i = 0; i < B.size(); ++i) B.data()[i] = u(rng);
  const ptt::Matrix ref = A * B;  // the CPU reference (Eigen, FP32)

  DeviceBuffer<float> dA(A.size()), dB(B.size()), dC(static_cast<std::size_t>(m) * n);
  dA.upload({A.data(), static_cast<std::size_t>(A.size())});
  dB.upload({B.data(), static_cast<std::size_t>(B.size())});
  const ptt::ch04::GemmProblem p{m, n, k, {dA.get(), k, false}, {dB.get(), n, false}, dC.get(), n};
  std::vector<float> c(static_cast<std::size_t>(m) * n);
  const std::vector<float> poison(c.size(), std::nanf(""));
  cudaEvent_t t0, t1;
  PTT_CUDA_CHECK(cudaEventCreate(&t0));
  PTT_CUDA_CHECK(cudaEventCreate(&t1));
  for (const GemmKernel kern : kernels) {
    Result r{m, n, k, ptt::ch04::gemm_kernel_name(kern)};
    dC.upload(poison);  // a kernel that skips an element cannot pass by leftovers
    ptt::ch04::gemm(kern, p, nullptr, cublas);
    PTT_CUDA_CHECK(cudaDeviceSynchronize());
    dC.download(c);
    r.rel_error = rel_error(c, ref);
    const double tol = kern == GemmKernel::CublasTf32 ? 1e-2 : 1e-4;
    r.valid = std::isfinite(r.rel_error) && r.rel_error < tol;
    if (r.valid) {
      for (int w = 0; w < 2; ++w) ptt::ch04::gemm(kern, p, nullptr, cublas);
      std::vector<double> ms;
      for (int i = 0; i < repeats; ++i) {
        PTT_CUDA_CHECK(cudaEventRecord(t0));
        ptt::ch04::gemm(kern, p, nullptr, cublas);
        PTT_CUDA_CHECK(cudaEventRecord(t1));
        PTT_CUDA_CHECK(cudaEventSynchronize(t1));
        float e = 0.0f;
        PTT_CUDA_CHECK(cudaEventElapsedTime(&e, t0, t1));
        ms.push_back(e);
      }
      std::nth_element(ms.begin(), ms.begin() + static_cast<long>(ms.size() / 2), ms.end());
      r.ms = ms[ms.size() / 2];
      r.gflops = 2.0 * m * n * static_cast<double>(k) / (r.ms * 1e-3) / 1e9;
    }
    results.push_back(r);
  }
  PTT_CUDA_CHECK(cudaEventDestroy(t0));
  PTT_CUDA_CHECK(cudaEventDestroy(t1));
}

}  // namespace

int main(int argc, char** argv) {
  return ptt::run_main("ch04_gemm", [&] {
    CLI::App app{"Chapter 04: the GEMM kernels, validated against the CPU, then timed."};
    std::string kernel_name, json_path;
    int m = 4096, n = 4096, k = 4096, repeats = 10;
    bool sweep = false, list_devices = false;
    app.add_option("--kernel", kernel_name,
                   "naive|coalesced|smem|blocked2d|vectorized|warptiled|cublas|cublas-tf32");
    app.add_option("--m", m, "rows of C")->check(CLI::Range(1, 1 << 20))->capture_default_str();
    app.add_option("--n", n, "columns of C")->check(CLI::Range(1, 1 << 20))->capture_default_str();
    app.add_option("--k", k, "the inner dimension")->check(CLI::Range(1, 1 << 20))->capture_default_str();
    app.add_option("--repeats", repeats, "timed runs per kernel (median)")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    app.add_flag("--sweep", sweep, "every kernel at 1024, 2048 and 4096 (the default without --kernel)");
    app.add_option("--json", json_path, "also write the results as JSON");
    app.add_flag("--list-devices", list_devices, "list the CUDA devices and exit");
    if (auto code = ptt::parse_args(app, argc, argv)) return *code;
    std::vector<GemmKernel> kernels;
    if (!kernel_name.empty()) kernels.push_back(ptt::ch04::gemm_kernel_from_name(kernel_name, "--kernel"));
    ptt::require_input(!(sweep && !kernel_name.empty()), "--sweep: runs every kernel; drop --kernel");
    ptt::ch04::require_device();  // exit 2 with "no CUDA device" on a machine without one
    if (list_devices) {
      int count = 0;
      PTT_CUDA_CHECK(cudaGetDeviceCount(&count));
      for (int d = 0; d < count; ++d) {
        cudaDeviceProp prop{};
        PTT_CUDA_CHECK(cudaGetDeviceProperties(&prop, d));
        std::printf("%d: %s (sm_%d%d, %.1f GiB)\n", d, prop.name, prop.major, prop.minor,
                    static_cast<double>(prop.totalGlobalMem) / (1 << 30));
      }
      return 0;
    }
    cublasHandle_t cublas = nullptr;
    PTT_CUBLAS_CHECK(cublasCreate(&cublas));
    std::vector<Result> results;
    if (kernels.empty()) {  // the sweep
      for (std::size_t i = 0; i < ptt::ch04::gemm_kernel_names().size(); ++i)
        kernels.push_back(static_cast<GemmKernel>(i));
      for (int size : {1024, 2048, 4096}) run_shape(size, size, size, kernels, repeats, cublas, results);
    } else {
      run_shape(m, n, k, kernels, repeats, cublas, results);
    }
    PTT_CUBLAS_CHECK(cublasDestroy(cublas));

    std::printf("| M x N x K | kernel | ms | GFLOP/s | vs cuBLAS FP32 | rel. error |\n");
    std::printf("| --- | --- | ---: | ---: | ---: | ---: |\n");
    bool all_valid = true;
    nlohmann::json out = nlohmann::json::array();
    for (const Result& r : results) {
      double cublas_gflops = 0.0;
      for (const Result& c : results)
        if (c.m == r.m && c.n == r.n && c.k == r.k && c.kernel == "cublas") cublas_gflops = c.gflops;
      const std::string shape = std::to_string(r.m) + "x" + std::to_string(r.n) + "x" + std::to_string(r.k);
      if (!r.valid) {
        std::printf("| %s | %s | FAILED validation | | | %.2e |\n", shape.c_str(), r.kernel.c_str(),
                    r.rel_error);
        all_valid = false;
      } else if (cublas_gflops > 0) {
        std::printf("| %s | %s | %.3f | %.0f | %.1f%% | %.1e |\n", shape.c_str(), r.kernel.c_str(), r.ms,
                    r.gflops, 100.0 * r.gflops / cublas_gflops, r.rel_error);
      } else {
        std::printf("| %s | %s | %.3f | %.0f | | %.1e |\n", shape.c_str(), r.kernel.c_str(), r.ms, r.gflops,
                    r.rel_error);
      }
      out.push_back({{"m", r.m},
                     {"n", r.n},
                     {"k", r.k},
                     {"kernel", r.kernel},
                     {"ms", r.ms},
                     {"gflops", r.gflops},
                     {"rel_error", r.rel_error},
                     {"valid", r.valid}});
    }
    if (!json_path.empty()) {
      std::ofstream f(json_path);
      ptt::require_input(static_cast<bool>(f), "--json: cannot write " + json_path);
      f << out.dump(2) << "\n";
    }
    if (!all_valid) {
      std::fprintf(stderr, "ch04_gemm: a kernel failed validation (see the table)\n");
      return 1;
    }
    return 0;
  });
}
