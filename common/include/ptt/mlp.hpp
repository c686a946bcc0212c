// ptt/mlp.hpp — the multi-layer perceptron: one flat parameter buffer, views per layer.
//
// A network with sizes {784, 256, 128, 10} has three Linear layers (784->256->128->10), ReLU
// after every layer but the last, and softmax cross-entropy on the logits.
//
// All parameters sit in ONE contiguous float buffer and all gradients in another buffer of the
// same layout (ParamLayout): layer l's weights W_l [out, in] row-major, then its bias b_l [out].
// Layers never own memory; they are views (LinearView) into a buffer. This is what lets
//   - chapter 02 give each thread its own gradient buffer and reduce buffers element-wise,
//   - chapter 03 allreduce one buffer (or buckets of it) between processes,
//   - chapter 05 hand a layer, or a block of a layer's rows/columns, to a different worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "ptt/tensor.hpp"

namespace ptt {

/// Where one Linear layer's parameters sit in a flat buffer.
struct LayerSlot {
  int in = 0;              ///< input features I
  int out = 0;             ///< output features O
  std::size_t weight = 0;  ///< offset of W [O, I] (row-major)
  std::size_t bias = 0;    ///< offset of b [O]
  std::size_t end = 0;     ///< one past the layer's last parameter
};

/// The layout of the flat parameter (and gradient) buffer of an MLP.
class ParamLayout {
 public:
  /// @param sizes layer widths from input to output, at least two, all positive.
  explicit ParamLayout(std::vector<int> sizes);

  const std::vector<int>& sizes() const { return sizes_; }
  int num_layers() const { return static_cast<int>(slots_.size()); }
  const LayerSlot& layer(int l) const { return slots_.at(static_cast<std::size_t>(l)); }
  /// Total number of floats in the buffer.
  std::size_t size() const { return size_; }
  int inputs() const { return sizes_.front(); }
  int outputs() const { return sizes_.back(); }

 private:
  std::vector<int> sizes_;
  std::vector<LayerSlot> slots_;
  std::size_t size_ = 0;
};

/// A Linear layer seen through a buffer: W [O, I] and b [O] are maps, no copies.
struct LinearView {
  MatrixMap W;
  VectorMap b;
};
struct ConstLinearView {
  ConstMatrixMap W;
  ConstVectorMap b;
};

/// @brief Layer @p l of @p buffer laid out by @p layout (parameters or gradients alike).
LinearView linear_view(const ParamLayout& layout, std::span<float> buffer, int l);
ConstLinearView linear_view(const ParamLayout& layout, std::span<const float> buffer, int l);

/// The activations one forward pass keeps for its backward pass, and the backward scratch.
/// Sized on first use for a batch; reusing it across steps allocates nothing.
struct Workspace {
  /// acts[0] = X [B, I]; acts[l+1] = output of layer l (after ReLU, except the last: logits).
  std::vector<Matrix> acts;
  /// delta[l+1] = dL/d(output of layer l), [B, O_l]; delta[0] = dL/d(input), [B, I] (only
  /// backward_layers() with input_grad writes it).
  std::vector<Matrix> delta;
  /// @brief Shapes the buffers for a batch of @p batch rows (keeps capacity when shrinking).
  void resize(const ParamLayout& layout, Eigen::Index batch);
  /// The logits of the last forward pass, [B, C].
  const Matrix& logits() const { return acts.back(); }
};

/// @brief Forward pass of the whole MLP on one batch.
///
/// a_0 = X;  z_{l+1} = a_l W_l^T + b_l;  a_{l+1} = ReLU(z_{l+1}) for every layer but the last,
/// whose output z_L are the logits.
/// @param layout the network's layout.
/// @param params the flat parameter buffer.
/// @param X      [B, I] the batch.
/// @param ws     workspace; on return ws.acts holds every activation and ws.logits() the logits.
void mlp_forward(const ParamLayout& layout, std::span<const float> params, ConstMatrixRef X, Workspace& ws);

/// @brief Loss and backward pass of the whole MLP for the batch of the last mlp_forward().
///
/// delta_L = (softmax(z_L) - onehot(y)) / B, then for l = L-1 .. 0:
///   dW_l = delta_{l+1}^T a_l,  db_l = column sums of delta_{l+1},
///   delta_l = (delta_{l+1} W_l) * 1[a_l > 0]   (skipped for l = 0: nobody needs dX).
/// @param layout the network's layout.
/// @param params the flat parameter buffer (the same one the forward pass used).
/// @param labels [B] the batch's labels.
/// @param ws     the workspace filled by mlp_forward().
/// @param grads  the flat gradient buffer, overwritten with the MEAN gradient over the batch.
/// @param layer_done optional; called with l as soon as layer l's gradients are final (l = L-1
///        first), so that a caller can start communicating them while lower layers still compute.
/// @return the mean cross-entropy loss of the batch.
float mlp_backward(const ParamLayout& layout, std::span<const float> params,
                   std::span<const std::uint8_t> labels, Workspace& ws, std::span<float> grads,
                   const std::function<void(int)>& layer_done = nullptr);

// --- layer ranges: what a worker that holds only some layers (a pipeline stage), or runs the
// network in pieces (a tensor-parallel worker, chapter 02's owner mode), calls -----------------

/// @brief Forward pass through layers [first, last) of @p layout: for l in [first, last),
/// ws.acts[l+1] = act(ws.acts[l] W_l^T + b_l), with act = ReLU between the range's layers, and
/// after its last layer only when @p relu_after_last says so.
/// @param layout          the network, or a worker's part of it (a pipeline stage's own layout).
/// @param params          its flat parameter buffer.
/// @param first,last      the layers to run; ws.acts[first] must hold their input.
/// @param ws              workspace already shaped with Workspace::resize().
/// @param relu_after_last whether layer last-1's output goes through ReLU: false when it is the
///                        network's last layer (its outputs are the logits), true for a pipeline
///                        stage or a single layer in the middle of the network.
void forward_layers(const ParamLayout& layout, std::span<const float> params, int first, int last,
                    Workspace& ws, bool relu_after_last);

/// Options of backward_layers().
struct BackwardOptions {
  /// Add dW and db into the gradient buffer instead of overwriting it (gradients accumulated over
  /// micro-batches: the sum happens inside the matrix product, at no extra cost).
  bool accumulate = false;
  /// Also compute ws.delta[first] = dL/d(input of layer first), to send to whoever produced that
  /// input (a previous pipeline stage). The network's own input needs none.
  bool input_grad = false;
};

/// @brief Backward pass through layers last-1, ..., first, given ws.delta[last] = dL/d(output of
/// layer last-1) before its activation (the loss gradient for the network's last layer):
///   dW_l = delta_{l+1}^T a_l,  db_l = column sums of delta_{l+1},
///   delta_l = (delta_{l+1} W_l) * 1[a_l > 0]  for l > first (ReLU between the range's layers),
///   delta_first = delta_{first+1} W_first     with options.input_grad (no ReLU: the input's
///                                             activation belongs to whoever produced it).
/// @param layout, params  the network (or part) and its parameters, as in forward_layers().
/// @param first,last      the layers; ws holds their forward activations.
/// @param ws              the workspace of the forward pass.
/// @param grads           the gradient buffer (layout's), overwritten or added to (options).
/// @param options         accumulate, input_grad.
/// @param layer_done      optional; called with l as soon as layer l's gradients are final.
void backward_layers(const ParamLayout& layout, std::span<const float> params, int first, int last,
                     Workspace& ws, std::span<float> grads, const BackwardOptions& options = {},
                     const std::function<void(int)>& layer_done = nullptr);

/// @brief He (Kaiming) initialisation: W ~ N(0, 2 / I) per layer, b = 0.
/// Draws from make_rng(seed, RngPurpose::Init, layer), so it does not depend on anything else.
void he_init(const ParamLayout& layout, std::span<float> params, std::uint64_t seed);

/// @brief The layer sizes {inputs, hidden..., classes}.
std::vector<int> mlp_sizes(int inputs, const std::vector<int>& hidden, int classes);

/// A model: its layout, its parameters and one gradient buffer of the same layout.
struct Mlp {
  explicit Mlp(std::vector<int> sizes)
      : layout(std::move(sizes)), params(layout.size(), 0.0f), grads(layout.size(), 0.0f) {}
  ParamLayout layout;
  std::vector<float> params;
  std::vector<float> grads;
};

}  // namespace ptt
