// pipeline_mlp.hpp — pipeline parallelism for the MLP: the layers split into p stages, the batch
// into m micro-batches.
//
// Stage s owns a contiguous run of layers (partition.hpp) and is a Worker: its layers form a small
// MLP of their own, one slice of chapter 01's buffer. The engine (pipeline_engine.hpp) runs the
// stages in GPipe or 1F1B order. Each stage ACCUMULATES its gradients over the m micro-batches
// and applies one update per mini-batch, so the result equals chapter 01's on the same batch:
//   g = sum_j (n_j / B) g_j     (n_j rows in micro-batch j, B rows in the batch)
// — the same weighting as chapter 02's shards, now over time instead of over threads.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "ch05/model_parallel.hpp"
#include "ch05/pipeline_engine.hpp"

namespace ptt::ch05 {

/// The MLP split into pipeline stages, each a Worker.
class PipelineMlp final : public ModelParallel {
 public:
  /// @param full chapter 01's layout; @param stages p; @param micro m (at most the batch size;
  /// a smaller last batch uses min(m, B)); @param schedule GPipe or 1F1B; @param trace record the timeline.
  /// @throws InputError when there are more stages than layers, or m < 1.
  PipelineMlp(const ParamLayout& full, int stages, int micro, Schedule schedule, bool trace);
  ~PipelineMlp() override;
  float forward_backward(ConstMatrixRef X, std::span<const std::uint8_t> labels) override;
  /// Peak stored activations per stage in the last step, in micro-batches and in floats.
  const std::vector<int>& peak_stored() const { return last_run_.peak_stored; }
  std::vector<std::size_t> peak_stored_floats() const;

 private:
  class MlpStage;
  int micro_;
  Schedule schedule_;
  std::vector<std::unique_ptr<MlpStage>> stages_;
  PipelineRun last_run_;
};

}  // namespace ptt::ch05
