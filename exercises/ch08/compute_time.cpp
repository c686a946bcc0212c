// Chapter 08 exercise: the GEMM rate at a micro-batch's rows and one stage's compute time (see
// contracts/ch08/compute_time.hpp for the formulas and where they come from).
// Fill in TODO(08.3). Check your work with:  ./tutorial check 08
#include "ch08/compute_time.hpp"

namespace ptt::ch08 {

double rate_at(const RateTable& table, double rows) {
  // TODO(08.3): the rate at `rows` from the measured table: between two measured row counts,
  //   a straight line in log(rows) (the table's counts double at each step); outside the
  //   measured range, the rate of the nearest end (a product is never predicted faster or slower
  //   than the largest or smallest one measured). A one-point table is a constant.
  (void)table, (void)rows;
  return 0.0;
}

ComputeTime stage_compute_time(const std::vector<StageLayer>& layers, double rows, const RateTable& forward,
                               const RateTable& backward, double busy_workers, int cores) {
  // TODO(08.3): one micro-batch of `rows` rows through the stage's layers: count the FLOPs of
  //   the forward product and of the two backward products of every layer (the network's first
  //   layer has no input gradient to compute), the worker's share of each, and time them at the
  //   rate of their own kind at THIS micro-batch's rows. When the node has fewer cores than
  //   busy workers (cores > 0), they take turns: the times grow by the oversubscription, never shrink.
  (void)layers, (void)rows, (void)forward, (void)backward, (void)busy_workers, (void)cores;
  return {};
}

}  // namespace ptt::ch08
