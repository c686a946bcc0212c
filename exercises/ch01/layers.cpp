// Chapter 01 exercise: the layer math of the MLP (declared, with its equations, in ptt/layers.hpp).
//
// Fill in the four TODO(01.k) holes; chapters/01_serial/README.md walks through each one.
// Check your work with:   ./tutorial check 01
// Train with your code:   cmake -B build/ex -DPTT_CH01_USE_EXERCISE=ON && cmake --build build/ex
//                         ./build/ex/chapters/01_serial/ch01_serial
// Until a hole is filled, its function leaves its outputs at zero, so the tests fail.
#include "ptt/layers.hpp"

#include <cmath>

#include "ptt/error.hpp"

namespace ptt {

void linear_forward(ConstMatrixRef X, ConstMatrixRef W, ConstVectorRef b, MatrixRef Y) {
  PTT_CHECK(X.cols() == W.cols() && Y.rows() == X.rows() && Y.cols() == W.rows(), "shape mismatch");
  // TODO(01.1): Y = X W^T + 1 b^T.
  //   X is [B, I], W is [O, I], b is [O], Y is [B, O].
  //   Hint: Y.noalias() = ... for the product, then add b^T to every row (Y.rowwise() += ...).
  Y.setZero();
  (void)b;
}

void linear_backward(ConstMatrixRef X, ConstMatrixRef W, ConstMatrixRef dY, MatrixRef dW, VectorRef db,
                     MatrixRef* dX) {
  PTT_CHECK(dY.rows() == X.rows() && dY.cols() == W.rows() && dW.rows() == W.rows() &&
                dW.cols() == W.cols() && db.size() == W.rows(),
            "shape mismatch");
  // TODO(01.2): the parameter gradients.
  //   dW = dY^T X   ([O, B] x [B, I] = [O, I])
  //   db = the column sums of dY   ([O])
  dW.setZero();
  db.setZero();
  // TODO(01.3): the input gradient, only when the caller asks for it (dX != nullptr).
  //   dX = dY W   ([B, O] x [O, I] = [B, I])
  if (dX != nullptr) dX->setZero();
}

void relu_forward(MatrixRef Z) { Z = Z.cwiseMax(0.0f); }

void relu_backward(ConstMatrixRef A, MatrixRef dA) { dA = (A.array() > 0.0f).select(dA, 0.0f); }

float softmax_cross_entropy(ConstMatrixRef logits, std::span<const std::uint8_t> labels, MatrixRef dlogits) {
  const Eigen::Index B = logits.rows();
  const Eigen::Index C = logits.cols();
  PTT_CHECK(static_cast<Eigen::Index>(labels.size()) == B && dlogits.rows() == B && dlogits.cols() == C,
            "shape mismatch");
  // TODO(01.4): the mean loss and its gradient, row by row.
  //   For row i with logits z and label y:
  //     shift z by its maximum (softmax(z) = softmax(z - max z), and exp() then cannot overflow),
  //     loss_i = log(sum_j exp(z_j - max)) - (z_y - max),
  //     dlogits row i = (softmax(z) - onehot(y)) / B.
  //   Return the mean of loss_i over the batch.
  dlogits.setZero();
  return 0.0f;
}

}  // namespace ptt
