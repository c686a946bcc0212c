// Chapter 02 — data parallelism on one machine, with OpenMP.
//
// Chapter 01's trainer with one change, its step: each batch is split into shards, every thread
// runs forward and backward for its shards into its own gradient buffer, and the buffers are
// combined with weights n_k / n before the one optimizer update, which the threads also share
// (ptt::ch02::DataParallelStep, solutions/ch02/data_parallel_step.hpp). The loop is the core's
// (ptt::TrainingRun::train). --intra-op instead keeps chapter 01's step (ptt::SerialStep) and lets
// Eigen thread each matrix product.
#include <Eigen/Core>
#include <map>
#include <memory>
#include <string>

#include "ch02/data_parallel_step.hpp"
#include "ptt/cli.hpp"
#include "ptt/error.hpp"
#include "ptt/train.hpp"

int main(int argc, char** argv) {
  return ptt::run_main("ch02_openmp", [&] {
    using ptt::ch02::Reduction;
    ptt::TrainConfig cfg;
    CLI::App app{"Chapter 02: data parallelism on one machine (OpenMP threads)."};
    ptt::add_train_options(app, cfg);
    // [ch02] the new flags
    ptt::ch02::Options dp;
    bool intra_op = false;
    const std::map<std::string, Reduction> reductions{{"buffers", Reduction::Buffers},
                                                      {"owner", Reduction::Owner},
                                                      {"atomic", Reduction::Atomic},
                                                      {"critical", Reduction::Critical}};
    app.add_option("--threads", dp.threads, "OpenMP threads")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    app.add_flag("--deterministic", dp.deterministic,
                 "fixed shards and combination order: same bits for any --threads");
    app.add_option("--shards", dp.shards, "shards per batch in deterministic mode")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    ptt::add_choice(app, "--reduce", dp.reduction, reductions,
                    "buffers (padded per-shard buffers), owner (each thread owns rows of every weight "
                    "gradient), atomic or critical");
    app.add_flag("--intra-op", intra_op, "no data parallelism: chapter 01's step with Eigen's threaded GEMM");
    if (auto code = ptt::parse_command_line(app, cfg, argc, argv)) return *code;
    const std::string reduce = ptt::ch02::reduction_name(dp.reduction);
    ptt::require_input(
        !(dp.deterministic && dp.reduction != Reduction::Buffers),
        "--reduce: " + reduce + " cannot be --deterministic (its order depends on the threads)");
    // [ch02] our threads run the shards; Eigen must not start its own inside them.
    Eigen::setNbThreads(intra_op ? dp.threads : 1);

    ptt::TrainingRun run("ch02_openmp", cfg,
                         {{"deterministic", dp.deterministic},
                          {"shards", dp.deterministic ? dp.shards : 0},
                          {"intra_op", intra_op}});
    run.report().extra() = {{"threads", dp.threads},
                            {"deterministic", dp.deterministic},
                            {"shards", dp.shard_count()},
                            {"reduce", reduce},
                            {"intra_op", intra_op}};
    std::unique_ptr<ptt::StepStrategy> step;
    if (intra_op)  // chapter 01's step; Eigen threads each product
      step = std::make_unique<ptt::SerialStep>(run.model(), run.data().train, cfg);
    else  // [ch02] shards in parallel, gradients combined with weights n_k / n, update in parallel
      step = std::make_unique<ptt::ch02::DataParallelStep>(run.model(), run.data().train, cfg, dp);
    run.train(*step);
    return 0;
  });
}
