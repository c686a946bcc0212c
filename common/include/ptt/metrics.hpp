// ptt/metrics.hpp — loss, accuracy and the confusion matrix; evaluation of a model on a data set.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ptt/data.hpp"
#include "ptt/mlp.hpp"
#include "ptt/tensor.hpp"

namespace ptt {

/// @brief Number of rows of @p logits [B, C] whose largest entry is at the row's label.
/// Ties go to the lowest class index.
std::size_t count_correct(ConstMatrixRef logits, std::span<const std::uint8_t> labels);

/// A C x C table: entry (true class, predicted class) counts samples.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int classes);
  void add(ConstMatrixRef logits, std::span<const std::uint8_t> labels);
  long at(int truth, int predicted) const;
  int classes() const { return classes_; }
  long total() const;
  double accuracy() const;

 private:
  int classes_;
  std::vector<long> counts_;
};

/// Running sums over an epoch's training steps.
struct EpochStats {
  double loss_sum = 0.0;  ///< sum over batches of (mean batch loss x batch size)
  std::size_t correct = 0;
  std::size_t samples = 0;
  void add(float batch_loss, std::size_t batch_correct, std::size_t batch_size);
  double loss() const { return samples ? loss_sum / static_cast<double>(samples) : 0.0; }
  double accuracy() const {
    return samples ? static_cast<double>(correct) / static_cast<double>(samples) : 0.0;
  }
};

/// The result of evaluating a model.
struct Evaluation {
  double loss = 0.0;
  double accuracy = 0.0;
  ConfusionMatrix confusion{1};
};

/// @brief Mean loss, accuracy and confusion matrix of the model on @p data (forward only,
/// in chunks of @p chunk rows). Uses no gradients and does not change the model.
Evaluation evaluate(const ParamLayout& layout, std::span<const float> params, const Dataset& data,
                    int classes, Eigen::Index chunk = 1000);

}  // namespace ptt
