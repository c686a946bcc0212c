// contracts/ch07/model_average.hpp — chapter 07's second contract: the averaging step of local
// SGD (model averaging). The solution (solutions/ch07/model_average.cpp) and your exercise
// (exercises/ch07/model_average.cpp, TODO(07.2)) both implement average_models().
//
// After H local steps, rank k holds parameters w_k (and optimizer state s_k) trained on its own
// shard of n_k samples. The ranks replace them by the mean weighted by shard size:
//
//     w = sum_k (n_k / n) w_k,        s = sum_k (n_k / n) s_k        (n = sum_k n_k)
//
// one MPI_Allreduce (sum) of the scaled buffers. The momentum rule: the optimizer state (SGD's
// velocity, Adam's moments) is averaged with the same weights, so that after the step every rank
// holds the same parameters AND the same state, as if one model had trained (and a checkpoint of
// rank 0 is the whole truth). For SGD with H = 1 the rule does not change the result: momentum is
// linear, so the weighted mean of the ranks' velocities follows mu v + sum_k (n_k / n) g_k either
// way, and H = 1 equals chapter 03. For H > 1, and for Adam (not linear), it does.
#pragma once

#include <mpi.h>

#include <span>

namespace ptt::ch07 {

/// @brief Replaces every rank's @p params and @p state by their averages weighted by @p weight.
/// @param params this rank's parameters w_k (in place: the weighted mean on return, on every rank).
/// @param state  this rank's optimizer state s_k (may be empty; averaged the same way).
/// @param weight this rank's weight n_k / n (the weights of all ranks sum to 1).
/// @param comm   the ranks.
void average_models(std::span<float> params, std::span<float> state, double weight, MPI_Comm comm);

}  // namespace ptt::ch07
