// Chapter 04 — the trainer on the GPU.
//
// Chapter 01's loop, with every step on the device: the training set is uploaded once, and
//   for each epoch: shuffle (host); for each batch: gather -> forward -> backward -> update (GPU),
// enqueued without waiting; full batches replay one CUDA graph (--graph). The host reads the loss
// and accuracy sums only every kReadEvery steps and at the epoch's end, and copies the parameters
// back to evaluate on the test set with chapter 01's evaluate() (and to checkpoint, and for the
// final checksum).
#include <Eigen/Core>

#include "cuda_check.hpp"
#include "device_trainer.hpp"
#include "ptt/cli.hpp"
#include "ptt/data.hpp"
#include "ptt/error.hpp"
#include "ptt/metrics.hpp"
#include "ptt/metrics_log.hpp"
#include "ptt/mlp.hpp"
#include "ptt/optim.hpp"
#include "ptt/progress.hpp"
#include "ptt/report.hpp"
#include "ptt/resume.hpp"
#include "ptt/timer.hpp"

namespace {
constexpr long kReadEvery = 50;  // steps between reads of the device's loss sum (progress bar)
}

int main(int argc, char** argv) {
  return ptt::run_main("ch04_cuda", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{"Chapter 04: the trainer on the GPU (staged GEMM kernels, fused kernels, CUDA graphs)."};
    ptt::add_train_options(app, cfg);
    std::string gemm_name = "cublas";  // GPU: which GEMM drives the layers
    bool graph = true;
    app.add_option("--gemm", gemm_name, "GEMM kernel: naive|coalesced|smem|blocked2d|vectorized|cublas")
        ->capture_default_str();
    app.add_flag("--graph,!--no-graph", graph, "replay each full-batch step from a CUDA graph")
        ->capture_default_str();
    if (auto code = ptt::parse_command_line(app, cfg, argc, argv)) return *code;
    ptt::cuda::DeviceOptions device;  // GPU: the options, checked before the device is touched
    device.gemm = ptt::cuda::gemm_kernel_from_name(gemm_name, "--gemm");
    ptt::require_input(device.gemm != ptt::cuda::GemmKernel::CublasTf32,
                       "--gemm: cublas-tf32 is for ch04_gemm only (training here stays FP32)");
    device.graph = graph;
    device.optimizer = cfg.optimizer;
    device.momentum = static_cast<float>(cfg.momentum);
    ptt::cuda::require_device();  // GPU: exit 2 with "no CUDA device" on a machine without one
    Eigen::setNbThreads(1);       // the CPU evaluation, as chapter 01

    ptt::MetricsLog log(cfg.metrics);  // opened first: a bad path fails before any work
    ptt::Checkpointer checkpoints(cfg, ptt::resume_config(cfg));
    const ptt::TrainTest data = ptt::load_fashion_mnist(cfg.data_dir);
    ptt::Mlp model(ptt::mlp_sizes(data.train.features(), cfg.hidden, data.classes));
    ptt::he_init(model.layout, model.params, cfg.seed);
    auto optimizer = ptt::make_optimizer(cfg.optimizer, model.params.size(), cfg.lr, cfg.momentum);

    ptt::Reporter report("ch04_cuda", cfg, model.layout.sizes(), log);
    report.extra()["gemm"] = gemm_name;
    report.extra()["graph"] = graph;
    report.start(static_cast<std::size_t>(data.train.size()), static_cast<std::size_t>(data.test.size()),
                 model.params.size());

    ptt::BatchSampler sampler(static_cast<std::size_t>(data.train.size()),
                              static_cast<std::size_t>(cfg.batch_size), cfg.seed);
    ptt::PhaseTimer phases;
    ptt::Evaluation test;
    ptt::Stopwatch run_clock;
    const ptt::Position start = checkpoints.restore(model.layout, model.params, *optimizer);  // --resume
    // GPU: the model, its optimizer state and the training set move to the device once.
    ptt::cuda::DeviceTrainer gpu(model.layout, cfg.batch_size, device);
    gpu.upload_params(model.params, optimizer->state());
    gpu.upload_train_set(data.train);
    long steps = start.steps;
    const long total_steps = ptt::planned_steps(cfg, sampler.num_batches());
    for (int epoch = start.epoch; epoch <= cfg.epochs && !ptt::step_limit_reached(cfg, steps); ++epoch) {
      ptt::Stopwatch epoch_clock;
      const ptt::EpochStats before = epoch == start.epoch ? start.stats : ptt::EpochStats{};
      std::size_t b = epoch == start.epoch ? start.next_batch : 0;
      sampler.start_epoch(static_cast<std::uint64_t>(epoch));
      // GPU: this epoch's order and per-step learning rates go to the device before its steps.
      std::vector<std::uint32_t> order;
      for (std::size_t i = 0; i < sampler.num_batches(); ++i) {
        const auto idx = sampler.batch(i);
        order.insert(order.end(), idx.begin(), idx.end());
      }
      const long first_step = steps - static_cast<long>(b);
      gpu.start_epoch(order,
                      ptt::cuda::step_hyper_table(cfg.optimizer, cfg.lr_schedule, cfg.lr, first_step,
                                                  static_cast<long>(sampler.num_batches()), total_steps),
                      static_cast<int>(b));
      ptt::ProgressBar bar("epoch " + std::to_string(epoch), sampler.num_batches(), !cfg.no_progress);
      ptt::EpochStats train = before;
      ptt::Stopwatch train_clock;
      for (; b < sampler.num_batches() && !ptt::step_limit_reached(cfg, steps); ++b) {
        gpu.step(static_cast<int>(sampler.batch(b).size()));  // GPU: enqueued, not waited for
        ++steps;
        if (steps % kReadEvery == 0 && !cfg.no_progress) {
          const ptt::EpochStats sums = gpu.sums();  // waits for the device
          bar.update(b + 1,
                     (before.loss_sum + sums.loss_sum) / static_cast<double>(before.samples + sums.samples));
        }
        if (checkpoints.due(steps)) {  // GPU: the state comes back to the host; a diverged one is never saved
          gpu.download_params(model.params, optimizer->state(), model.grads);
          optimizer->set_steps_taken(steps);
          const ptt::EpochStats sums = gpu.sums();
          ptt::EpochStats at = before;
          at.loss_sum += sums.loss_sum, at.correct += sums.correct, at.samples += sums.samples;
          ptt::check_finite(static_cast<float>(at.loss()), model.layout, model.grads, steps, epoch,
                            checkpoints);
          checkpoints.save(model.layout, model.params, *optimizer, {epoch, b + 1, steps, at});
        }
      }
      const ptt::EpochStats sums = gpu.sums();  // waits for the epoch's last step
      const double train_seconds = train_clock.seconds();
      phases.add(ptt::Phase::Backward, train_seconds);  // one fused step: no per-phase split on the GPU
      bar.finish();
      train.loss_sum += sums.loss_sum, train.correct += sums.correct, train.samples += sums.samples;
      // GPU: parameters back to the host, the divergence guard, then chapter 01's evaluation.
      gpu.download_params(model.params, optimizer->state(), model.grads);
      optimizer->set_steps_taken(steps);
      ptt::check_finite(static_cast<float>(train.loss()), model.layout, model.grads, steps, epoch,
                        checkpoints);
      test = ptt::evaluate(model.layout, model.params, data.test, data.classes);
      report.epoch(epoch, train, test, train_seconds, epoch_clock.seconds(), sums.samples);
      // An epoch cut short by --max-steps resumes where it stopped; a complete one at the next.
      const bool complete = b == sampler.num_batches();
      checkpoints.save(
          model.layout, model.params, *optimizer,
          {complete ? epoch + 1 : epoch, complete ? 0 : b, steps, complete ? ptt::EpochStats{} : train});
    }
    report.finish(test, steps, model.params, phases, run_clock.seconds());
    return 0;
  });
}
