// The layer math of the MLP (declared, with its equations, in ptt/layers.hpp): chapter 01's lesson,
// part of the core because every chapter calls it (exercises/ch01/layers.cpp is the learner's copy).
//
// Each function is one or two Eigen expressions that mirror the math. Eigen turns the matrix
// products into cache-blocked, vectorised GEMM calls; .noalias() tells it the output does not
// overlap the inputs, so it writes straight into Y instead of a temporary.
#include "ptt/layers.hpp"

#include <cmath>

#include "ptt/error.hpp"

namespace ptt {

void linear_forward(ConstMatrixRef X, ConstMatrixRef W, ConstVectorRef b, MatrixRef Y) {
  PTT_CHECK(X.cols() == W.cols() && Y.rows() == X.rows() && Y.cols() == W.rows(), "shape mismatch");
  // Y = X W^T + 1 b^T
  Y.noalias() = X * W.transpose();
  Y.rowwise() += b.transpose();
}

//! [linear_backward]
void linear_backward(ConstMatrixRef X, ConstMatrixRef W, ConstMatrixRef dY, MatrixRef dW, VectorRef db,
                     MatrixRef* dX) {
  PTT_CHECK(dY.rows() == X.rows() && dY.cols() == W.rows() && dW.rows() == W.rows() &&
                dW.cols() == W.cols() && db.size() == W.rows(),
            "shape mismatch");
  // dW = dY^T X
  dW.noalias() = dY.transpose() * X;
  // db = dY^T 1, the column sums, added row after row. (dY.colwise().sum() gives the same values
  // up to rounding, but its summation order depends on where db sits in memory, so the same
  // gradient would differ in the last bits between two buffers. Row by row, every element is
  // summed in the same order wherever it lives, and later chapters can compare bits.)
  db.setZero();
  for (Eigen::Index i = 0; i < dY.rows(); ++i) db += dY.row(i).transpose();
  // dX = dY W
  if (dX != nullptr) dX->noalias() = dY * W;
}
//! [linear_backward]

void relu_forward(MatrixRef Z) { Z = Z.cwiseMax(0.0f); }

void relu_backward(ConstMatrixRef A, MatrixRef dA) { dA = (A.array() > 0.0f).select(dA, 0.0f); }

float softmax_cross_entropy(ConstMatrixRef logits, std::span<const std::uint8_t> labels, MatrixRef dlogits) {
  const Eigen::Index B = logits.rows();
  const Eigen::Index C = logits.cols();
  PTT_CHECK(static_cast<Eigen::Index>(labels.size()) == B && dlogits.rows() == B && dlogits.cols() == C,
            "shape mismatch");
  double loss = 0.0;
  for (Eigen::Index i = 0; i < B; ++i) {
    const std::uint8_t y = labels[static_cast<std::size_t>(i)];
    PTT_CHECK(y < C, "label out of range");
    // p = softmax(z - max z): shifting by the maximum leaves p unchanged and keeps exp() finite.
    const float zmax = logits.row(i).maxCoeff();
    auto p = dlogits.row(i);
    p = (logits.row(i).array() - zmax).exp().matrix();
    const float sum = p.sum();
    // -log p_y = log(sum_j exp(z_j - zmax)) - (z_y - zmax)
    loss += std::log(sum) - (logits(i, y) - zmax);
    p /= sum;
    p(y) -= 1.0f;  // p - onehot(y)
  }
  dlogits /= static_cast<float>(B);  // the mean over the batch
  return static_cast<float>(loss / static_cast<double>(B));
}

}  // namespace ptt
