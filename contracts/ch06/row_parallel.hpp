// contracts/ch06/row_parallel.hpp — chapter 06's third contract (solutions/ch06/row_parallel.cpp
// and exercises/ch06/row_parallel.cpp implement it, TODO(06.3)): the row-parallel half of
// Megatron's layer pair, with the tensor-parallel group as an MPI communicator.
//
// The second layer of a pair, Z = H B^T + b with B [O, I], is split by its INPUT features among
// the T ranks of the tp group: rank t holds the columns B_t [O, I/T] that meet its slice H_t
// [rows, I/T] of the previous layer's output, and the whole bias b [O] (replicated). Because
//
//     H B^T = sum_t H_t B_t^T ,
//
// each rank computes its partial product P_t = H_t B_t^T [rows, O], the group sums the partial
// products (one all-reduce of rows x O floats), and the bias is added ONCE, after the sum. Every
// rank then holds the same Z, which it passes through the ReLU when the layer has one.
#pragma once

#include <mpi.h>

#include "ptt/mlp.hpp"
#include "ptt/tensor.hpp"

namespace ptt::ch06 {

/// @brief The row-parallel layer's forward pass on the tp group @p tp.
/// @param input [rows, I/T] this rank's slice H_t of the layer's input.
/// @param layer this rank's weights B_t [O, I/T] and the whole bias b [O].
/// @param relu  apply the ReLU to the sum (every layer of the MLP but the last).
/// @param out   [rows, O] on return: ReLU?(sum over the group of H_t B_t^T, plus b), the same on
///              every rank of @p tp.
/// @param tp    the tensor-parallel group (collective over it).
void row_parallel_forward(ConstMatrixRef input, const ConstLinearView& layer, bool relu, Matrix& out,
                          MPI_Comm tp);

}  // namespace ptt::ch06
