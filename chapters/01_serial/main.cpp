// Chapter 01 — the serial reference trainer.
//
// One thread trains an MLP on Fashion-MNIST with mini-batch SGD (or Adam):
//   for each epoch: shuffle; for each batch: gather -> forward -> backward -> update.
// The loop is the core's (ptt::TrainingRun::train, common/src/train.cpp); chapter 01's step is
// ptt::SerialStep, the reference every later chapter is tested against.
#include <Eigen/Core>

#include "ptt/cli.hpp"
#include "ptt/error.hpp"
#include "ptt/train.hpp"

int main(int argc, char** argv) {
  return ptt::run_main("ch01_serial", [&] {
    ptt::TrainConfig cfg;
    CLI::App app{"Chapter 01: the serial reference trainer (one thread)."};
    ptt::add_train_options(app, cfg);
    if (auto code = ptt::parse_command_line(app, cfg, argc, argv)) return *code;
    Eigen::setNbThreads(1);  // the reference runs on one thread, Eigen's GEMM included

    ptt::TrainingRun run("ch01_serial", cfg);
    ptt::SerialStep step(run.model(), run.data().train, cfg);
    run.train(step);
    return 0;
  });
}
