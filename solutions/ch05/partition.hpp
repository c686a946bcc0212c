// partition.hpp — which layers each pipeline stage gets: contiguous runs of layers, balanced by
// their multiply-adds, so that the slowest stage (which sets the pipeline's pace) is as fast as it
// can be.
#pragma once

#include <vector>

#include "ptt/mlp.hpp"

namespace ptt::ch05 {

/// @brief Splits the layers of @p layout into @p stages contiguous runs minimising the largest
/// stage's multiply-adds (I*O per layer): balanced_partition() (contracts/ch05) over the layers.
/// @return stages+1 boundaries: stage s has layers [b[s], b[s+1]).
/// @throws InputError when there are fewer layers than stages.
std::vector<int> partition_layers(const ParamLayout& layout, int stages);

}  // namespace ptt::ch05
