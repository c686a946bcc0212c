#include "ptt/mlp.hpp"

#include <random>
#include <string>

#include "ptt/error.hpp"
#include "ptt/layers.hpp"
#include "ptt/rng.hpp"

namespace ptt {

ParamLayout::ParamLayout(std::vector<int> sizes) : sizes_(std::move(sizes)) {
  PTT_CHECK(sizes_.size() >= 2, "an MLP needs at least an input and an output size");
  std::size_t offset = 0;
  for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
    PTT_CHECK(sizes_[l] > 0 && sizes_[l + 1] > 0, "layer sizes must be positive");
    LayerSlot slot;
    slot.in = sizes_[l];
    slot.out = sizes_[l + 1];
    slot.weight = offset;
    slot.bias = offset + static_cast<std::size_t>(slot.in) * static_cast<std::size_t>(slot.out);
    slot.end = slot.bias + static_cast<std::size_t>(slot.out);
    offset = slot.end;
    slots_.push_back(slot);
  }
  size_ = offset;
}

LinearView linear_view(const ParamLayout& layout, std::span<float> buffer, int l) {
  PTT_CHECK(buffer.size() == layout.size(), "buffer does not match the layout");
  const LayerSlot& s = layout.layer(l);
  return {MatrixMap(buffer.data() + s.weight, s.out, s.in), VectorMap(buffer.data() + s.bias, s.out)};
}

ConstLinearView linear_view(const ParamLayout& layout, std::span<const float> buffer, int l) {
  PTT_CHECK(buffer.size() == layout.size(), "buffer does not match the layout");
  const LayerSlot& s = layout.layer(l);
  return {ConstMatrixMap(buffer.data() + s.weight, s.out, s.in),
          ConstVectorMap(buffer.data() + s.bias, s.out)};
}

void Workspace::resize(const ParamLayout& layout, Eigen::Index batch) {
  const auto L = static_cast<std::size_t>(layout.num_layers());
  acts.resize(L + 1);
  delta.resize(L + 1);
  acts[0].resize(batch, layout.inputs());
  delta[0].resize(batch, layout.inputs());  // dL/d(input), for backward_layers' input_grad
  for (std::size_t l = 0; l < L; ++l) {
    const int out = layout.layer(static_cast<int>(l)).out;
    acts[l + 1].resize(batch, out);
    delta[l + 1].resize(batch, out);
  }
}

void forward_layers(const ParamLayout& layout, std::span<const float> params, int first, int last,
                    Workspace& ws, bool relu_after_last) {
  PTT_CHECK(0 <= first && first < last && last <= layout.num_layers(), "bad layer range");
  for (int l = first; l < last; ++l) {
    const auto layer = linear_view(layout, params, l);
    auto& out = ws.acts[static_cast<std::size_t>(l) + 1];
    linear_forward(ws.acts[static_cast<std::size_t>(l)], layer.W, layer.b, out);
    if (l + 1 < last || relu_after_last) relu_forward(out);
  }
}

void backward_layers(const ParamLayout& layout, std::span<const float> params, int first, int last,
                     Workspace& ws, std::span<float> grads, const BackwardOptions& options,
                     const std::function<void(int)>& layer_done) {
  PTT_CHECK(0 <= first && first < last && last <= layout.num_layers(), "bad layer range");
  for (int l = last - 1; l >= first; --l) {
    const auto i = static_cast<std::size_t>(l);
    const auto layer = linear_view(layout, params, l);
    auto grad = linear_view(layout, grads, l);
    const bool need_dx = l > first || options.input_grad;
    if (options.accumulate) {
      const Matrix& dY = ws.delta[i + 1];
      // linear_backward's dW and db, ADDED to what the buffer holds (row by row for db, in the
      // same order as linear_backward, so that one micro-batch gives the same bits).
      grad.W.noalias() += dY.transpose() * ws.acts[i];
      for (Eigen::Index r = 0; r < dY.rows(); ++r) grad.b += dY.row(r).transpose();
      if (need_dx) ws.delta[i].noalias() = dY * layer.W;
    } else {
      MatrixRef dX(ws.delta[i]);
      linear_backward(ws.acts[i], layer.W, ws.delta[i + 1], grad.W, grad.b, need_dx ? &dX : nullptr);
    }
    if (l > first) relu_backward(ws.acts[i], ws.delta[i]);
    if (layer_done) layer_done(l);
  }
}

void mlp_forward(const ParamLayout& layout, std::span<const float> params, ConstMatrixRef X, Workspace& ws) {
  PTT_CHECK(X.cols() == layout.inputs(), "batch width does not match the network's input size");
  ws.resize(layout, X.rows());
  ws.acts[0] = X;
  forward_layers(layout, params, 0, layout.num_layers(), ws, /*relu_after_last=*/false);  // logits: no ReLU
}

float mlp_backward(const ParamLayout& layout, std::span<const float> params,
                   std::span<const std::uint8_t> labels, Workspace& ws, std::span<float> grads,
                   const std::function<void(int)>& layer_done) {
  const int L = layout.num_layers();
  PTT_CHECK(static_cast<Eigen::Index>(labels.size()) == ws.acts[0].rows(),
            "labels do not match the batch of the last forward pass");
  auto& top = ws.delta[static_cast<std::size_t>(L)];
  const float loss = softmax_cross_entropy(ws.logits(), labels, top);
  backward_layers(layout, params, 0, L, ws, grads, {}, layer_done);
  return loss;
}

void he_init(const ParamLayout& layout, std::span<float> params, std::uint64_t seed) {
  PTT_CHECK(params.size() == layout.size(), "buffer does not match the layout");
  for (int l = 0; l < layout.num_layers(); ++l) {
    auto rng = make_rng(seed, RngPurpose::Init, static_cast<std::uint64_t>(l));
    auto layer = linear_view(layout, params, l);
    std::normal_distribution<float> normal(0.0f, std::sqrt(2.0f / static_cast<float>(layer.W.cols())));
    for (Eigen::Index k = 0; k < layer.W.size(); ++k) layer.W.data()[k] = normal(rng);
    layer.b.setZero();
  }
}

std::vector<int> mlp_sizes(int inputs, const std::vector<int>& hidden, int classes) {
  std::vector<int> sizes{inputs};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(classes);
  return sizes;
}

std::mt19937_64 make_rng(std::uint64_t seed, RngPurpose purpose, std::uint64_t index) {
  // SplitMix64 finaliser over the three numbers: nearby inputs give unrelated seeds.
  auto mix = [](std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  const std::uint64_t s = mix(mix(mix(seed) ^ static_cast<std::uint64_t>(purpose)) ^ index);
  return std::mt19937_64(s);
}

}  // namespace ptt
