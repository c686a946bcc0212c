// pipeline_engine.hpp — the pipeline's engine: p stages, one thread each, every stage running its
// schedule (GPipe or 1F1B, contracts/ch05/schedule.hpp) over the m micro-batches of one mini-batch.
//
// Micro-batch j flows down the stages in its forward pass (stage s sends its output activations to
// s+1) and back up in its backward pass (s+1 sends dL/d(its input) to s). The engine is generic:
// it builds and checks each stage's order, moves the messages through Channels, records the
// timeline and counts the activations each stage holds. What a stage computes is a StageWork: the
// MLP's layers (pipeline_mlp.hpp), or a fixed-time dummy in the benchmark.
#pragma once

#include <chrono>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "ch05/schedule.hpp"
#include "ch05/timeline.hpp"
#include "ch05/worker_pool.hpp"
#include "ptt/tensor.hpp"

namespace ptt::ch05 {

enum class Schedule { GPipe, OneFOneB };

/// --schedule's names and what they mean: "gpipe", "1f1b" (for CLI::CheckedTransformer).
const std::map<std::string, Schedule>& schedule_names();
/// The name of @p s, "gpipe" or "1f1b".
std::string schedule_name(Schedule s);
/// @brief The order of stage @p stage of @p stages: gpipe_schedule() or one_f_one_b_schedule().
std::vector<Op> make_schedule(Schedule s, int stage, int stages, int micro);
/// "F0 F1 B0 ..." (for messages and tests).
std::string to_string(const std::vector<Op>& ops);
/// @brief Checks that @p ops runs F j and B j exactly once for every j < micro, F j before B j.
/// @throws std::logic_error naming the first problem.
void validate_schedule(const std::vector<Op>& ops, int micro);
/// @brief Checks that the stages' orders fit together: played with every op taking no time, each
/// stage running its next op as soon as its input has been sent (F j from stage s - 1, B j from
/// stage s + 1), every stage finishes. Orders that do not (e.g. stage s waiting for a gradient
/// that stage s + 1 sends only after an activation stage s has not sent yet) would deadlock.
/// @param orders orders[s]: stage s's order, each valid (validate_schedule()).
/// @throws std::logic_error naming a stuck stage and the op it waits at.
void validate_orders_fit(const std::vector<std::vector<Op>>& orders);

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

/// @brief Runs one mini-batch through the stages (one worker each) in the schedule's order.
/// @param pool     the workers, one per stage (stage s runs on worker s).
/// @param stages   what each stage computes, stage 0 first.
/// @param micro    m, the number of micro-batches.
/// @param schedule GPipe or 1F1B: every stage's order comes from make_schedule().
/// @param timeline records (stage, micro-batch, F/B, start, end) when enabled.
/// @param step     the step number the events are tagged with.
/// @param timeout  how long a stage waits for a message before declaring the pipeline stuck.
/// @return the peak number of micro-batches whose activations each stage held.
/// @throws the first stage's exception (the other stages are woken and stopped); ChannelError
///         when a message does not come in time; std::logic_error for a malformed schedule.
PipelineRun run_pipeline(WorkerPool& pool, std::span<StageWork* const> stages, int micro, Schedule schedule,
                         Timeline& timeline, long step, std::chrono::milliseconds timeout);

}  // namespace ptt::ch05
