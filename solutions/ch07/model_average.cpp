// Chapter 07: the averaging step of local SGD (see contracts/ch07/model_average.hpp).
#include "ch07/model_average.hpp"

#include "ptt/error.hpp"

namespace ptt::ch07 {

namespace {
// buffer <- sum over ranks of weight_k * buffer_k: scale here, sum in one allreduce.
void weighted_sum(std::span<float> buffer, double weight, MPI_Comm comm) {
  if (buffer.empty()) return;
  const auto w = static_cast<float>(weight);
  for (float& x : buffer) x *= w;
  PTT_MPI_CHECK(
      MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(buffer.size()), MPI_FLOAT, MPI_SUM, comm));
}
}  // namespace

void average_models(std::span<float> params, std::span<float> state, double weight, MPI_Comm comm) {
  weighted_sum(params, weight, comm);
  weighted_sum(state, weight, comm);  // the momentum rule: the state is averaged like the weights
}

}  // namespace ptt::ch07
