// tensor_parallel.hpp — tensor parallelism: every layer's matrices split between workers.
//
// The Megatron-LM MLP block, applied to pairs of Linear layers (A, B) with a ReLU between:
//   A is split by OUTPUT features (columns of Y = X A^T, i.e. rows of A [O, I]): worker k gets
//     A_k and computes H_k = ReLU(X A_k^T + a_k), its slice of H's columns, with no message
//     (ReLU is element-wise, so it needs only the slice).
//   B is split by INPUT features (columns of B [O, I]): worker k computes the partial product
//     P_k = H_k B_k^T; the full output is the sum Z = sum_k P_k + b, one ALL-REDUCE.
// In the backward pass the mirror image: dZ is replicated, dB_k = dZ^T H_k and dH_k = dZ B_k need
// no message; dA_k and da_k are local; dX = sum_k dZ_A,k A_k is the one ALL-REDUCE (skipped for
// the first layer, whose input gradient nobody needs).
//
// Layers pair up from the input: (0, 1), (2, 3), ...; an unpaired last layer (784-256-128-10 has
// three) is replicated: every worker holds it whole and computes the same result. A worker's
// shard is again an MLP: 784-256-128-10 on 4 workers is 784-64-128-10 per worker.
#pragma once

#include "ch05/model_parallel.hpp"

namespace ptt::ch05 {

/// How a layer is split.
enum class Split { Columns, Rows, Replicated };

/// @brief How each layer of @p full is split (pairs from the input, an odd last one replicated).
std::vector<Split> tensor_parallel_splits(const ParamLayout& full);

/// The MLP with every layer pair split between @p workers workers.
class TensorParallelMlp final : public ModelParallel {
 public:
  /// @throws InputError when @p workers does not divide a split layer's width.
  TensorParallelMlp(const ParamLayout& full, int workers, bool trace);
  float forward_backward(ConstMatrixRef X, std::span<const std::uint8_t> labels) override;
  const std::vector<Split>& splits() const { return splits_; }

 private:
  std::vector<Split> splits_;
  std::vector<Workspace> ws_;  // one per worker: its own activations
};

}  // namespace ptt::ch05
