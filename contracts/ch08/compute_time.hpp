// contracts/ch08/compute_time.hpp — chapter 08's third contract: how long one stage's GEMMs take
// for one micro-batch, at a rate that depends on the micro-batch's rows. The solution
// (solutions/ch08/compute_time.cpp) and your exercise (exercises/ch08/compute_time.cpp,
// TODO(08.3)) both implement it; predict() calls it for every stage.
//
// The rate depends on the shape. Chapter 02 split a batch over threads and saw that a product of
// 128 rows runs slower per row than one of 256: a small product cannot amortise loading the
// weights. ch08_calibrate measures the rate at a ladder of row counts (8, 16, ..., 1024) and
// machine.json keeps it as a table. Between two measured counts r_i < n < r_{i+1} the rate is
// linear in log(rows), the ladder's natural axis (each step doubles the rows):
//
//     t = (ln n - ln r_i) / (ln r_{i+1} - ln r_i),     rate(n) = rate_i + t (rate_{i+1} - rate_i)
//
// and beyond the ends it is CLAMPED to the nearest measured rate (never extrapolated: a line
// through the two smallest counts may fall to zero or below before n = 1). A table of one point
// is a constant: the shipped h100-cluster profile, which has only the datasheet's peak.
//
// The FLOPs (chapter 01). A layer maps I inputs to O outputs; a micro-batch has n rows:
//
//     forward   Y = X W^T          2 n I O
//     backward  dW = dY^T X        2 n I O
//               dX = dY W          2 n I O, except the network's FIRST layer: nobody needs its dX
//
// A tensor-parallel layer (chapter 05) does a share 1/T of each. Forward FLOPs are timed at the
// forward rate at n rows, backward FLOPs at the backward rate at n rows — n the rows of ONE
// micro-batch, B / (dp m), not the batch: the micro-batch is the product that runs.
//
// Contention (chapter 02 on 2 cores): when more workers want a core at once than the node has
// cores, the cores are time-shared and every time is multiplied by busy workers / cores. The busy
// workers are an average, so a fraction: 4 workers that each compute all the time count 4; a
// pipeline's workers, idle in its bubble, count less (predict() works it out). With as many cores
// as busy workers or more (or cores = 0: a GPU per worker, no contention modelled) the factor is 1.
#pragma once

#include <vector>

namespace ptt::ch08 {

/// A GEMM rate as a function of rows: FLOP/s of one worker at each measured row count.
struct RateTable {
  std::vector<double> rows;         ///< row counts, positive and strictly increasing
  std::vector<double> flops_per_s;  ///< the rate at each row count, positive
};

/// @brief The rate of @p table at @p rows: linear in log(rows) between the two neighbouring row
/// counts, clamped to the first (last) rate below (above) the table.
/// @pre the table is non-empty, sorted, its sizes equal; @p rows > 0.
double rate_at(const RateTable& table, double rows);

/// One layer of a stage, as the worker computes it.
struct StageLayer {
  double inputs = 0;   ///< I
  double outputs = 0;  ///< O
  double share = 1;    ///< the worker's share of the layer's products: 1/T when tensor-parallel split, else 1
  bool first = false;  ///< the network's first layer (its backward needs no dX)
};

/// One micro-batch's GEMM times on one stage, seconds.
struct ComputeTime {
  double forward_s = 0;
  double backward_s = 0;
};

/// @brief The forward and backward time of one micro-batch of @p rows rows through @p layers.
/// @param layers the stage's layers, as this worker computes them.
/// @param rows n, the rows of one micro-batch (B / (dp m)); the tables are read at n.
/// @param forward,backward the rate tables of the forward and the backward products.
/// @param busy_workers the workers of this worker's node that want a core at once, on average (>= 1).
/// @param cores the node's cores; 0 = no contention.
/// @return forward: sum of 2 n I O share over the layers / rate_at(forward, n); backward: sum of
/// (2 for the first layer, else 4) n I O share / rate_at(backward, n); both times
/// max(1, busy_workers / cores) when cores > 0.
ComputeTime stage_compute_time(const std::vector<StageLayer>& layers, double rows, const RateTable& forward,
                               const RateTable& backward, double busy_workers, int cores);

}  // namespace ptt::ch08
