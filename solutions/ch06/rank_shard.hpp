// solutions/ch06/rank_shard.hpp — which part of the model a rank of the grid holds.
//
// Pipeline stages cut the network between tensor-parallel units: with tp > 1 a unit is a layer
// pair (chapter 05's Megatron split: a column-parallel layer, then a row-parallel one) or an
// unpaired last layer; with tp = 1 every layer is a unit. Stage s of pp gets a contiguous run of
// units, balanced by their multiply-adds with chapter 05's balanced_partition (the slowest stage
// sets the pipeline's pace). Inside its
// stage, tp rank k holds slice k of every split layer and the whole of every replicated one.
//
// A rank's part is again a small MLP: its own ParamLayout over the stage's layers with the split
// widths divided by tp, and a map `to_full` from each of its floats to chapter 01's flat buffer.
// Everything here is a pure function of (model, grid, coordinates): every rank can compute every
// other rank's part, which is how rank 0 gathers the model for evaluation and checkpoints.
#pragma once

#include <cstddef>
#include <vector>

#include "ch05/tensor_parallel.hpp"
#include "ch06/grid.hpp"
#include "ptt/mlp.hpp"

namespace ptt::ch06 {

/// @brief The first layer of each stage, and the number of layers after the last stage:
/// pp + 1 boundaries, stage s has layers [b[s], b[s+1]).
/// @throws InputError when pp exceeds the number of units, or tp does not divide a split width.
std::vector<int> stage_boundaries(const ParamLayout& full, int pp, int tp);

/// One rank's part of the model.
struct RankShard {
  int first = 0, last = 0;           ///< the stage's layers [first, last) of the network
  ParamLayout layout{{1, 1}};        ///< the part's own layer shapes
  std::vector<ch05::Split> splits;   ///< per local layer: how it is split over tp
  std::vector<std::size_t> to_full;  ///< to_full[i]: index in chapter 01's buffer of float i
  bool first_stage() const { return first == 0; }
  /// True for the stage that ends with the network's last layer (the logits and the loss).
  bool last_stage(const ParamLayout& full) const { return last == full.num_layers(); }
};

/// @brief The part of @p full held by the rank at @p at on @p grid.
/// @throws InputError as stage_boundaries().
RankShard make_rank_shard(const ParamLayout& full, const Grid& grid, const Coords& at);

}  // namespace ptt::ch06
