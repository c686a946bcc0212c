// ptt/tensor.hpp — the matrix types every layer and chapter uses.
//
// Batches are row-major: one sample per row, so a batch X has shape [batch, features] and a
// sample's features are contiguous (as they are in the IDX file and in PyTorch).
// Parameters live in one flat float buffer (see ptt/mlp.hpp); layers see them through Maps.
#pragma once

#include <Eigen/Core>

namespace ptt {

/// A dense row-major float matrix that owns its storage.
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// A dense float column vector (biases, per-class values).
using Vector = Eigen::VectorXf;

/// A row-major matrix view over memory owned elsewhere (e.g. the flat parameter buffer).
using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;
/// A vector view over memory owned elsewhere.
using VectorMap = Eigen::Map<Vector>;
using ConstVectorMap = Eigen::Map<const Vector>;

/// What functions take: any row-major matrix, map or block (rows contiguous in memory, any
/// row stride), so a column block of a weight matrix can be passed without a copy.
using MatrixRef = Eigen::Ref<Matrix>;
using ConstMatrixRef = Eigen::Ref<const Matrix>;
using VectorRef = Eigen::Ref<Vector>;
using ConstVectorRef = Eigen::Ref<const Vector>;

}  // namespace ptt
