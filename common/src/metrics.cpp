#include "ptt/metrics.hpp"

#include <numeric>

#include "ptt/error.hpp"
#include "ptt/layers.hpp"

namespace ptt {

namespace {
int argmax_row(ConstMatrixRef logits, Eigen::Index i) {
  Eigen::Index best = 0;
  logits.row(i).maxCoeff(&best);
  return static_cast<int>(best);
}
}  // namespace

std::size_t count_correct(ConstMatrixRef logits, std::span<const std::uint8_t> labels) {
  PTT_CHECK(static_cast<Eigen::Index>(labels.size()) == logits.rows(), "size mismatch");
  std::size_t correct = 0;
  for (Eigen::Index i = 0; i < logits.rows(); ++i)
    correct += argmax_row(logits, i) == labels[static_cast<std::size_t>(i)] ? 1 : 0;
  return correct;
}

ConfusionMatrix::ConfusionMatrix(int classes)
    : classes_(classes), counts_(static_cast<std::size_t>(classes * classes), 0) {}

void ConfusionMatrix::add(ConstMatrixRef logits, std::span<const std::uint8_t> labels) {
  PTT_CHECK(logits.cols() == classes_ && static_cast<Eigen::Index>(labels.size()) == logits.rows(),
            "size mismatch");
  for (Eigen::Index i = 0; i < logits.rows(); ++i)
    ++counts_[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)] * classes_ +
                                       argmax_row(logits, i))];
}

long ConfusionMatrix::at(int truth, int predicted) const {
  return counts_.at(static_cast<std::size_t>(truth * classes_ + predicted));
}

long ConfusionMatrix::total() const { return std::accumulate(counts_.begin(), counts_.end(), 0L); }

double ConfusionMatrix::accuracy() const {
  long diag = 0;
  for (int k = 0; k < classes_; ++k) diag += at(k, k);
  const long n = total();
  return n ? static_cast<double>(diag) / static_cast<double>(n) : 0.0;
}

void EpochStats::add(float batch_loss, std::size_t batch_correct, std::size_t batch_size) {
  loss_sum += static_cast<double>(batch_loss) * static_cast<double>(batch_size);
  correct += batch_correct;
  samples += batch_size;
}

Evaluation evaluate(const ParamLayout& layout, std::span<const float> params, const Dataset& data,
                    int classes, Eigen::Index chunk) {
  Evaluation ev;
  ev.confusion = ConfusionMatrix(classes);
  Workspace ws;
  Matrix dlogits;
  double loss_sum = 0.0;
  for (Eigen::Index begin = 0; begin < data.size(); begin += chunk) {
    const Eigen::Index n = std::min(chunk, data.size() - begin);
    const std::span<const std::uint8_t> labels(data.y.data() + begin, static_cast<std::size_t>(n));
    mlp_forward(layout, params, data.x.middleRows(begin, n), ws);
    dlogits.resize(n, ws.logits().cols());
    loss_sum +=
        static_cast<double>(softmax_cross_entropy(ws.logits(), labels, dlogits)) * static_cast<double>(n);
    ev.confusion.add(ws.logits(), labels);
  }
  ev.loss = data.size() ? loss_sum / static_cast<double>(data.size()) : 0.0;
  ev.accuracy = ev.confusion.accuracy();
  return ev;
}

}  // namespace ptt
