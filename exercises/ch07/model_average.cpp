// Chapter 07 exercise: the averaging step of local SGD (see contracts/ch07/model_average.hpp for
// the formula and the momentum rule).
// Fill in TODO(07.2). Check your work with:  ./tutorial check 07
// (the tests run on 3 ranks: with one rank the average is the rank's own model).
#include "ch07/model_average.hpp"

#include "ptt/error.hpp"

namespace ptt::ch07 {

void average_models(std::span<float> params, std::span<float> state, double weight, MPI_Comm comm) {
  // TODO(07.2): every rank's params become sum_k weight_k * params_k, and the same for state:
  //   scale this rank's buffer by weight (n_k / n, NOT 1 / ranks: the shards differ in size),
  //   then sum over the ranks in place with
  //   MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, comm) (check it: PTT_MPI_CHECK).
  //   The momentum rule: average the optimizer state exactly like the parameters.
  (void)params, (void)state, (void)weight, (void)comm;
}

}  // namespace ptt::ch07
