// Chapter 04 — the trainer on the GPU.
//
// Chapter 01's loop (the core's), with every step on the device (solutions/ch04/device_step.hpp):
// the training set is uploaded once, and each step — gather, forward, backward, update — is
// enqueued without waiting; full batches replay one CUDA graph (--graph). The host reads the loss
// and accuracy sums only every few steps and at the epoch's end, and copies the parameters back to
// evaluate on the test set with chapter 01's evaluate() (and to checkpoint, and for the checksum).
//
// The same file is also built on the CUDA emulator (emulator/, target ch04_emulated): every kernel
// and runtime call runs as host C++, so a machine without a GPU trains with the chapter's own code.
// `ch04_cuda --emulate` hands its other flags to that program.
#include <unistd.h>

#include <Eigen/Core>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "ch04/cuda_check.hpp"
#include "ch04/device_step.hpp"
#include "ptt/cli.hpp"
#include "ptt/error.hpp"
#include "ptt/train.hpp"

#ifdef PTT_CH04_EMULATED
constexpr bool kEmulated = true;
#else
constexpr bool kEmulated = false;
#endif

int main(int argc, char** argv) {
  return ptt::run_main("ch04_cuda", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{"Chapter 04: the trainer on the GPU (staged GEMM kernels, fused kernels, CUDA graphs)."};
    ptt::add_train_options(app, cfg);
    // [ch04] the new flags
    std::string gemm_name = "cublas";
    bool graph = true;
    app.add_option("--gemm", gemm_name,
                   "GEMM kernel: naive|coalesced|smem|blocked2d|vectorized|warptiled|cublas")
        ->capture_default_str();
    app.add_flag("--graph,!--no-graph", graph, "replay each full-batch step from a CUDA graph")
        ->capture_default_str();
    bool emulate = false;
    app.add_flag("--emulate", emulate,
                 "run on the CPU emulator (every CUDA thread a fiber; slow: use a few --max-steps)");
    if (auto code = ptt::parse_command_line(app, cfg, argc, argv)) return *code;
#ifndef PTT_CH04_EMULATED
    if (emulate) {  // the emulator's runtime replaces CUDA's, so it is a program of its own
      std::vector<char*> args{const_cast<char*>(PTT_CH04_EMULATED_EXE)};
      for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      throw ptt::InputError(std::string("--emulate: cannot start ") + PTT_CH04_EMULATED_EXE + ": " +
                            std::strerror(errno) + " (build the target ch04_emulated)");
    }
#endif
    ptt::ch04::DeviceOptions device;  // checked before the device is touched
    device.gemm = ptt::ch04::gemm_kernel_from_name(gemm_name, "--gemm");
    ptt::require_input(device.gemm != ptt::ch04::GemmKernel::CublasTf32,
                       "--gemm: cublas-tf32 is for ch04_gemm only (training here stays FP32)");
    device.graph = graph;
    ptt::ch04::require_device();  // exit 2 with "no CUDA device" on a machine without one
    Eigen::setNbThreads(1);       // the CPU evaluation, as chapter 01

    ptt::TrainingRun run("ch04_cuda", cfg);
    run.report().extra() = {{"gemm", gemm_name}, {"graph", graph}, {"emulated", kEmulated}};
    ptt::ch04::DeviceStep step(run.model(), run.data().train, cfg,
                               device);  // [ch04] the model moves to the GPU
    run.train(step);
    return 0;
  });
}
