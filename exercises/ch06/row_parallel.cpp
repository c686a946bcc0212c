// exercises/ch06/row_parallel.cpp — TODO(06.3): the row-parallel layer over the tp group. The
// contract, with the math, is contracts/ch06/row_parallel.hpp; exercises/ch06/HINTS.md has hints
// in three levels. Test: ./tutorial check 06
#include "ch06/row_parallel.hpp"

#include "ptt/error.hpp"
#include "ptt/layers.hpp"

namespace ptt::ch06 {

// TODO(06.3): the row-parallel layer's forward pass. Every rank of `tp` must end with the same
// `out`, equal to what the unsplit layer computes on the unsplit input: each rank knows only its
// slice of the input features and the matching columns of the weights, so no rank can finish
// alone. Mind what is split and what is replicated: the bias is on every rank.
void row_parallel_forward(ConstMatrixRef input, const ConstLinearView& layer, bool relu, Matrix& out,
                          MPI_Comm tp) {
  (void)input;
  (void)layer;
  (void)relu;
  (void)tp;
  out.setZero(input.rows(), layer.W.rows());
}

}  // namespace ptt::ch06
