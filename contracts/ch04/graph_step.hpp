// contracts/ch04/graph_step.hpp — chapter 04's contract for how each training step is launched:
// eagerly (one launch per kernel), or from a CUDA graph (TODO(04.5)), which
// solutions/ch04/graph_step.cpp and exercises/ch04/graph_step.cpp implement. The device trainer
// (solutions/ch04/device_trainer.cpp, DeviceTrainer::step) asks it before every step, so
// -DPTT_CH04_USE_EXERCISE=ON trains through the learner's version.
//
// Why a graph: a step of the MLP is about thirty small kernels. Launched one by one, each costs the
// CPU a few microseconds, which on a small network is longer than the kernel itself runs. Captured
// once into a graph (cudaStreamBeginCapture ... cudaStreamEndCapture, cudaGraphInstantiate), the
// whole step is replayed by ONE cudaGraphLaunch.
//
// What a graph cannot do follows from what it is, a recording: it replays the same kernels with the
// same arguments, grid sizes and pointers. So
//   - a step whose arguments differ cannot replay it: the epoch's last batch, when it is shorter,
//     passes another row count to every kernel (and launches other grids); it runs eagerly;
//   - anything that changes from step to step must be read from device memory by the kernels, not
//     passed as an argument: the step number, the learning rate of the step, the batch's sample
//     indices (the trainer keeps them on the device; that part is given);
//   - nothing may initialise during the capture: libraries such as cuBLAS pick and load their
//     kernels on their first call, and the driver loads each module lazily. So the first full step
//     runs eagerly (a warm-up), and only the next one is captured;
//   - capturing costs far more than a launch: the step is captured once and replayed after that.
#pragma once

namespace ptt::ch04 {

/// How one training step is launched.
enum class StepLaunch {
  eager,    ///< enqueue every kernel of the step, one launch each
  capture,  ///< record the step into a graph (nothing runs while recording), then launch the graph
  replay,   ///< launch the graph recorded earlier: the whole step in one call
};

/// What the trainer knows before a step.
struct StepState {
  bool graph_enabled = true;  ///< --graph: the learner asked for graphs
  int rows = 0;               ///< this step's batch rows, 1 <= rows <= max_batch
  int max_batch = 0;          ///< the full batch, the only size a graph is recorded for
  bool warmed_up = false;     ///< a full batch has already run eagerly
  bool captured = false;      ///< the graph has been recorded
};

/// @brief How to launch the step described by @p s, under the rules in this file's top comment:
/// eager when graphs are off, when the batch is not full, or for the first full step (the warm-up);
/// capture for the first full step after that; replay for every full step once captured.
/// After an eager FULL step the trainer sets warmed_up, after a capture it sets captured.
StepLaunch step_launch(const StepState& s);

}  // namespace ptt::ch04
