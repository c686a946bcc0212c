// contracts/ch08/step_time.hpp — chapter 08's first contract: the two timing formulas the cost
// model is built on. The solution (solutions/ch08/step_time.cpp) and your exercise
// (exercises/ch08/step_time.cpp, TODO(08.1)) both implement them.
//
// The ring all-reduce (chapter 03). p ranks in a ring each hold n bytes. A reduce-scatter of
// p-1 steps, then an all-gather of p-1 steps; in each step every rank sends one segment of n/p
// bytes to its neighbour. So every rank sends 2(p-1) segments, 2(p-1)/p * n bytes, and with the
// alpha-beta model (a message of b bytes takes alpha + b * beta):
//
//     bytes per rank = 2 (p-1)/p * n,        T_ring(n) = 2 (p-1) alpha + 2 (p-1)/p * n * beta
//
// and nothing at all for p = 1.
//
// The pipeline step (chapter 05). p balanced stages, m micro-batches, a forward of t_f and a
// backward of t_b per micro-batch on each stage. GPipe and 1F1B both fill and drain the pipeline
// once per step: every stage idles (p-1)(t_f + t_b), so the step lasts
//
//     T_step = (m + p - 1)(t_f + t_b),      bubble share = (p-1)/(m+p-1) of T_step
//                                           = (p-1)/m of the ideal time m (t_f + t_b).
//
// Interleaved 1F1B (Narayanan et al., 2021) gives each worker v chunks of the layers; a chunk's
// forward takes t_f/v, so the fill and drain shrink v times: T_step = (m + (p-1)/v)(t_f + t_b),
// a bubble of (p-1)/(v m) of the ideal time. v = 1 is plain GPipe/1F1B.
#pragma once

namespace ptt::ch08 {

/// A link of the alpha-beta model: a message of b bytes takes alpha_s + b * beta_s_per_byte.
struct Link {
  double alpha_s = 0;          ///< latency per message, seconds
  double beta_s_per_byte = 0;  ///< seconds per byte (1 / bandwidth)
};

/// @brief The bytes each rank sends in a ring all-reduce of @p bytes over @p p ranks:
/// 2 (p-1)/p * bytes (0 for p = 1).
double ring_allreduce_bytes_per_rank(double bytes, int p);

/// @brief The time of a ring all-reduce of @p bytes over @p p ranks on @p link:
/// 2 (p-1) alpha + 2 (p-1)/p * bytes * beta (0 for p = 1).
double ring_allreduce_time(double bytes, int p, Link link);

/// @brief The time of one pipelined step: (m + (p-1)/v)(t_f + t_b).
/// @param t_fwd forward time of one micro-batch on one (the slowest) stage, seconds.
/// @param t_bwd its backward time, seconds.
/// @param p     stages (p = 1: no pipeline, m (t_f + t_b)).
/// @param m     micro-batches per step.
/// @param v     chunks per worker (interleaved schedule); 1 for GPipe and 1F1B.
double pipeline_step_time(double t_fwd, double t_bwd, int p, int m, int v = 1);

}  // namespace ptt::ch08
