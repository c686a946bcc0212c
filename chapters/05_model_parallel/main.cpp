// Chapter 05 — model parallelism: tensor parallel and pipeline parallel.
//
// Chapter 01's trainer, with one change: the MODEL is split between workers (threads that own
// their part of the parameters, gradients and optimizer state and talk only through channels).
//   --tp N                  every layer pair split between N workers (solutions/ch05/tensor_parallel.hpp)
//   --pp N --microbatches M the layers split into N stages, the batch into M micro-batches, run
//   --schedule gpipe|1f1b   in GPipe or 1F1B order (solutions/ch05/pipeline_mlp.hpp)
//   --trace FILE            the timeline of the first steps as a Chrome trace (chrome://tracing, Perfetto)
// The loop is the core's (ptt::TrainingRun::train); chapter 05's step is ptt::ch05::ModelParallelStep
// (solutions/ch05/model_parallel_step.hpp), which scatters chapter 01's buffers to the workers and
// gathers them back for evaluation, checksums and checkpoints.
#include <Eigen/Core>

#include "ch05/model_parallel_step.hpp"
#include "ch05/pipeline_engine.hpp"
#include "ptt/cli.hpp"
#include "ptt/error.hpp"
#include "ptt/train.hpp"

int main(int argc, char** argv) {
  return ptt::run_main("ch05_model_parallel", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{
        "Chapter 05: model parallelism (tensor parallel, pipeline parallel) with threads as workers."};
    ptt::add_train_options(app, cfg);
    // [ch05] the new flags
    ptt::ch05::Options split;
    app.add_option("--tp", split.tp, "tensor-parallel workers (each layer pair split between them)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--pp", split.pp, "pipeline stages (layers split between them)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--microbatches", split.microbatches,
                   "micro-batches per mini-batch (pipeline), at most --batch-size")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    ptt::add_choice(app, "--schedule", split.schedule, ptt::ch05::schedule_names(), "pipeline schedule");
    app.add_option("--trace", split.trace,
                   "write the timeline of the first steps to FILE (Chrome trace JSON)");
    if (auto code = ptt::parse_command_line(app, cfg, argc, argv)) return *code;
    ptt::require_input(split.microbatches <= cfg.batch_size,
                       "--microbatches: must be at most --batch-size = " + std::to_string(cfg.batch_size) +
                           ", got " + std::to_string(split.microbatches));
    ptt::require_input(split.tp == 1 || split.pp == 1,
                       "--tp and --pp: this chapter runs one of them at a time (set the other to 1)");
    // [ch05] our threads are the workers; Eigen must not start its own inside them.
    Eigen::setNbThreads(1);

    const std::string schedule = ptt::ch05::schedule_name(split.schedule);
    ptt::TrainingRun run(
        "ch05_model_parallel", cfg,
        {{"tp", split.tp}, {"pp", split.pp}, {"microbatches", split.microbatches}, {"schedule", schedule}});
    run.report().extra() = {{"tp", split.tp},
                            {"pp", split.pp},
                            {"microbatches", split.microbatches},
                            {"schedule", split.tp > 1 ? "none" : schedule}};
    ptt::ch05::ModelParallelStep step(run.model(), run.data().train, cfg, split);  // [ch05] the model split
    run.train(step);
    return 0;
  });
}
