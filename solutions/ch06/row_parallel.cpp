// solutions/ch06/row_parallel.cpp — TODO(06.3)'s solution (contracts/ch06/row_parallel.hpp).
#include "ch06/row_parallel.hpp"

#include "ptt/error.hpp"
#include "ptt/layers.hpp"

namespace ptt::ch06 {

//! [row_parallel_forward]
void row_parallel_forward(ConstMatrixRef input, const ConstLinearView& layer, bool relu, Matrix& out,
                          MPI_Comm tp) {
  out.noalias() = input * layer.W.transpose();  // my partial product P_t
  PTT_MPI_CHECK(
      MPI_Allreduce(MPI_IN_PLACE, out.data(), static_cast<int>(out.size()), MPI_FLOAT, MPI_SUM, tp));
  out.rowwise() += layer.b.transpose();  // the bias once, after the sum
  if (relu) relu_forward(out);
}
//! [row_parallel_forward]

}  // namespace ptt::ch06
