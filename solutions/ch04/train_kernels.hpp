// train_kernels.hpp — the kernels of one training step on the GPU, besides the GEMMs.
//
// Shapes as in ptt/layers.hpp: B rows (the batch), O outputs, C classes; everything row-major.
// Values that change from step to step (which batch, the learning rate, Adam's bias corrections)
// are read by the kernels from DEVICE memory — the step counter and a per-step table — so that a
// captured CUDA graph, whose arguments are frozen, can be replayed for every step.
// Each launcher enqueues on @p stream and checks the launch. The forward epilogue,
// bias_activation (Y = ReLU(Y + b), fused), is the learner's exercise 04.3: its contract is
// contracts/ch04/bias_activation.hpp, included here, and its launch is checked by the caller.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "ch04/bias_activation.hpp"

namespace ptt::ch04 {

/// Per-step hyperparameters in the device table: learning rate, and Adam's 1 - beta^t (1 for SGD).
struct StepHyper {
  float lr = 0.0f;
  float c1 = 1.0f;
  float c2 = 1.0f;
};

/// @brief The batch of step *step: x[r, :] = data_x[order[*step * batch + r], :], y likewise, r < rows.
/// @param data_x   [N, F] the whole training set (on the device).
/// @param data_y   [N] its labels.
/// @param features F, the floats per sample.
/// @param order    the epoch's shuffled indices.
/// @param step     (device) the step within the epoch; the batch starts at order[*step * batch].
/// @param batch    the full batch size.
/// @param rows     the rows of this batch (fewer than @p batch for the epoch's last one).
/// @param x        [rows, F] the batch's samples (output).
/// @param y        [rows] the batch's labels (output).
/// @param stream   the stream the kernel is enqueued on.
void gather_batch(const float* data_x, const std::uint8_t* data_y, int features, const std::uint32_t* order,
                  const int* step, int batch, int rows, float* x, std::uint8_t* y, cudaStream_t stream);

/// @brief dA[i] = A[i] > 0 ? dA[i] : 0 over @p n elements (ReLU backward, in place).
void relu_backward(const float* A, float* dA, std::size_t n, cudaStream_t stream);

/// @brief Fused softmax cross-entropy, forward and backward, one warp per row:
/// dlogits = (softmax(z) - onehot(y)) / rows, and the per-row losses and correct predictions
/// ADDED to *loss_sum and *correct (on the device; the host reads them only now and then).
void softmax_cross_entropy(const float* logits, const std::uint8_t* labels, int rows, int classes,
                           float* dlogits, double* loss_sum, unsigned* correct, cudaStream_t stream);

/// @brief db[o] = sum_r dY[r, o] (column sums, in a fixed order: deterministic).
void bias_gradient(const float* dY, int rows, int cols, float* db, cudaStream_t stream);

/// @brief SGD with momentum, as common/src/optim.cpp: v = mu v + g; p = p - lr v, with lr from
/// hyper[*step].
void sgd_update(float* params, const float* grads, float* velocity, std::size_t n, float momentum,
                const StepHyper* hyper, const int* step, cudaStream_t stream);

/// @brief Adam, as common/src/optim.cpp, with lr, c1 = 1 - b1^t, c2 = 1 - b2^t from hyper[*step].
/// @param params  [n] the parameters, updated in place.
/// @param grads   [n] the gradients.
/// @param moments m in [0, n), v in [n, 2n) (the layout of ptt::Adam::state()).
/// @param n       the number of parameters.
/// @param beta1   the decay of the first moment.
/// @param beta2   the decay of the second moment.
/// @param eps     added to the square root of v.
/// @param hyper   (device) the per-step table of learning rates and bias corrections.
/// @param step    (device) the row of @p hyper to use.
/// @param stream  the stream the kernel is enqueued on.
void adam_update(float* params, const float* grads, float* moments, std::size_t n, float beta1, float beta2,
                 float eps, const StepHyper* hyper, const int* step, cudaStream_t stream);

/// @brief ++*step (the last kernel of a step).
void advance_step(int* step, cudaStream_t stream);

}  // namespace ptt::ch04
