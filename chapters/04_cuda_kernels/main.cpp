// Chapter 04 — the trainer on the GPU.
//
// Chapter 01's loop (the core's), with every step on the device (solutions/ch04/device_step.hpp):
// the training set is uploaded once, and each step — gather, forward, backward, update — is
// enqueued without waiting; full batches replay one CUDA graph (--graph). The host reads the loss
// and accuracy sums only every few steps and at the epoch's end, and copies the parameters back to
// evaluate on the test set with chapter 01's evaluate() (and to checkpoint, and for the checksum).
#include <Eigen/Core>

#include "ch04/cuda_check.hpp"
#include "ch04/device_step.hpp"
#include "ptt/cli.hpp"
#include "ptt/error.hpp"
#include "ptt/train.hpp"

int main(int argc, char** argv) {
  return ptt::run_main("ch04_cuda", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{"Chapter 04: the trainer on the GPU (staged GEMM kernels, fused kernels, CUDA graphs)."};
    ptt::add_train_options(app, cfg);
    // [ch04] the new flags
    std::string gemm_name = "cublas";
    bool graph = true;
    app.add_option("--gemm", gemm_name, "GEMM kernel: naive|coalesced|smem|blocked2d|vectorized|cublas")
        ->capture_default_str();
    app.add_flag("--graph,!--no-graph", graph, "replay each full-batch step from a CUDA graph")
        ->capture_default_str();
    if (auto code = ptt::parse_command_line(app, cfg, argc, argv)) return *code;
    ptt::ch04::DeviceOptions device;  // checked before the device is touched
    device.gemm = ptt::ch04::gemm_kernel_from_name(gemm_name, "--gemm");
    ptt::require_input(device.gemm != ptt::ch04::GemmKernel::CublasTf32,
                       "--gemm: cublas-tf32 is for ch04_gemm only (training here stays FP32)");
    device.graph = graph;
    ptt::ch04::require_device();  // exit 2 with "no CUDA device" on a machine without one
    Eigen::setNbThreads(1);       // the CPU evaluation, as chapter 01

    ptt::TrainingRun run("ch04_cuda", cfg);
    run.report().extra() = {{"gemm", gemm_name}, {"graph", graph}};
    ptt::ch04::DeviceStep step(run.model(), run.data().train, cfg,
                               device);  // [ch04] the model moves to the GPU
    run.train(step);
    return 0;
  });
}
