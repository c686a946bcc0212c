// pipeline.hpp — pipeline parallelism: the layers split into p stages, the batch into m micro-batches.
//
// Stage s owns a contiguous run of layers. Micro-batch j flows down the stages in the forward
// pass (stage s sends its output activations to s+1) and back up in the backward pass (s+1 sends
// dL/d(its input) to s). Each stage ACCUMULATES its gradients over the m micro-batches and applies
// one update per mini-batch, so the result equals chapter 01's on the same batch:
//   g = sum_j (n_j / B) g_j     (n_j rows in micro-batch j, B rows in the batch)
// — the same weighting as chapter 02's shards, now over time instead of over threads.
//
// The engine (run_pipeline) is generic: it runs each stage's schedule on its own thread, moves the
// messages, checks the schedule, records the timeline and counts the activations each stage holds.
// What a stage computes is a StageWork: the MLP's layers here, a fixed-time dummy in the benchmark.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model_parallel.hpp"
#include "schedule.hpp"

namespace ptt::ch05 {

enum class Schedule { GPipe, OneFOneB };

/// @brief "gpipe" or "1f1b". @throws InputError otherwise.
Schedule parse_schedule(const std::string& name);
std::string schedule_name(Schedule s);
/// @brief The order of stage @p stage: gpipe_schedule() or one_f_one_b_schedule().
std::vector<Op> make_schedule(Schedule s, int stage, int stages, int micro);
/// "F0 F1 B0 ..." (for messages and tests).
std::string to_string(const std::vector<Op>& ops);
/// @brief Checks that @p ops runs F j and B j exactly once for every j < micro, F j before B j.
/// @throws std::logic_error naming the first problem.
void validate_schedule(const std::vector<Op>& ops, int micro);

/// What one stage computes; the engine calls it from the stage's own thread only.
class StageWork {
 public:
  virtual ~StageWork() = default;
  /// @brief Forward pass of micro-batch @p micro. @p input: the previous stage's output (empty
  /// on stage 0, which reads its own data). @return what to send to the next stage (ignored on
  /// the last stage).
  virtual Matrix forward(int micro, Matrix input) = 0;
  /// @brief Backward pass of micro-batch @p micro. @p grad_output: dL/d(this stage's output)
  /// from the next stage (empty on the last stage, which starts from the loss).
  /// @return dL/d(this stage's input), sent to the previous stage (ignored on stage 0).
  virtual Matrix backward(int micro, Matrix grad_output) = 0;
};

/// What one run of the pipeline measured.
struct PipelineRun {
  std::vector<int> peak_stored;  ///< per stage: most micro-batches whose activations were held at once
};

/// @brief Runs one mini-batch through the stages (one thread each) in the schedule's order.
/// @param stages   what each stage computes, stage 0 first.
/// @param micro    m, the number of micro-batches.
/// @param schedule GPipe or 1F1B: every stage's order comes from make_schedule().
/// @param timeline records (stage, micro-batch, F/B, start, end) when enabled.
/// @param step     the step number the events are tagged with.
/// @param timeout  how long a stage waits for a message before declaring the pipeline stuck.
/// @return the peak number of micro-batches whose activations each stage held.
/// @throws the first stage's exception (the other stages are woken and stopped); ChannelError
///         when a message does not come in time; std::logic_error for a malformed schedule.
PipelineRun run_pipeline(std::span<StageWork* const> stages, int micro, Schedule schedule, Timeline& timeline,
                         long step, std::chrono::milliseconds timeout);

/// @brief Splits the layers into @p stages contiguous runs minimising the largest stage's
/// multiply-adds (I*O per layer). @return stages+1 boundaries: stage s has layers [b[s], b[s+1]).
/// @throws InputError when there are fewer layers than stages.
std::vector<int> partition_layers(const ParamLayout& layout, int stages);

/// The MLP split into pipeline stages, each a Worker.
class PipelineMlp final : public ModelParallel {
 public:
  /// @param full chapter 01's layout; @param stages p; @param micro m (at most the batch size;
  /// a smaller last batch uses min(m, B)); @param schedule GPipe or 1F1B; @param trace record the timeline.
  PipelineMlp(const ParamLayout& full, int stages, int micro, Schedule schedule, bool trace);
  ~PipelineMlp() override;
  float forward_backward(ConstMatrixRef X, std::span<const std::uint8_t> labels) override;
  /// Layer boundaries of the stages (see partition_layers).
  const std::vector<int>& boundaries() const { return bounds_; }
  /// Peak stored activations per stage in the last step, in micro-batches and in floats.
  const std::vector<int>& peak_stored() const { return last_run_.peak_stored; }
  std::vector<std::size_t> peak_stored_floats() const;

 private:
  class MlpStage;
  int micro_;
  Schedule schedule_;
  std::vector<int> bounds_;
  std::vector<std::unique_ptr<MlpStage>> stages_;
  PipelineRun last_run_;
};

}  // namespace ptt::ch05
