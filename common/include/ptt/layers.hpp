// ptt/layers.hpp — the layer math of the MLP: Linear, ReLU, softmax + cross-entropy.
//
// These functions are chapter 01's lesson. They are declared here, in the core, because every
// chapter's trainer calls them; their bodies live in common/src/layers.cpp (finished) and
// exercises/ch01/layers.cpp (yours, with TODO(01.k) holes). See chapters/01_serial/README.md.
//
// Shapes: B = batch size, I = input features, O = output features, C = classes.
// Weights are stored as in PyTorch: W has shape [O, I], so a Linear layer computes Y = X W^T + b.
#pragma once

#include <cstdint>
#include <span>

#include "ptt/tensor.hpp"

namespace ptt {

/// @brief Linear forward: Y = X W^T + 1 b^T.
/// @param X [B, I] inputs, one sample per row.
/// @param W [O, I] weights.
/// @param b [O] bias.
/// @param Y [B, O] output (overwritten).
void linear_forward(ConstMatrixRef X, ConstMatrixRef W, ConstVectorRef b, MatrixRef Y);

/// @brief Linear backward: given dL/dY, the gradients of W and b, and (optionally) of X.
///
/// From Y_{ij} = sum_k X_{ik} W_{jk} + b_j:
///   dW = dY^T X   ([O, B] x [B, I] = [O, I]),
///   db = dY^T 1   (column sums of dY, [O]),
///   dX = dY W     ([B, O] x [O, I] = [B, I]).
/// @param X  [B, I] the forward input.
/// @param W  [O, I] weights.
/// @param dY [B, O] gradient of the loss with respect to Y.
/// @param dW [O, I] weight gradient (overwritten).
/// @param db [O] bias gradient (overwritten).
/// @param dX [B, I] input gradient (overwritten); pass nullptr for the first layer, whose input
///           gradient nobody needs.
void linear_backward(ConstMatrixRef X, ConstMatrixRef W, ConstMatrixRef dY, MatrixRef dW, VectorRef db,
                     MatrixRef* dX);

/// @brief ReLU forward, in place: A = max(Z, 0).
/// @param Z [B, O] pre-activations; holds the activations on return.
void relu_forward(MatrixRef Z);

/// @brief ReLU backward, in place: dZ = dA * 1[A > 0].
/// @param A  [B, O] the forward output (A > 0 exactly where Z > 0).
/// @param dA [B, O] gradient with respect to A; holds the gradient with respect to Z on return.
void relu_backward(ConstMatrixRef A, MatrixRef dA);

/// @brief Mean softmax cross-entropy over the batch, and its gradient with respect to the logits.
///
/// With p_i = softmax(z_i) and label y_i, the loss is L = -(1/B) sum_i log p_{i,y_i}
///   = (1/B) sum_i (logsumexp(z_i) - z_{i,y_i}),
/// computed with the row maximum subtracted first so that exp never overflows. Its gradient is
///   dL/dz_i = (p_i - onehot(y_i)) / B.
/// @param logits  [B, C] unnormalised scores.
/// @param labels  [B] class indices in [0, C).
/// @param dlogits [B, C] gradient (overwritten); may alias nothing else.
/// @return the mean loss L.
float softmax_cross_entropy(ConstMatrixRef logits, std::span<const std::uint8_t> labels, MatrixRef dlogits);

}  // namespace ptt
