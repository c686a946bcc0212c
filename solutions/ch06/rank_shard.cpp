// solutions/ch06/rank_shard.cpp — see rank_shard.hpp.
#include "ch06/rank_shard.hpp"

#include <string>

#include "ch05/balanced_partition.hpp"
#include "ptt/error.hpp"

namespace ptt::ch06 {

namespace {
// Units: runs of layers a stage boundary may not cut. Returns the first layer of each unit.
std::vector<int> unit_starts(const ParamLayout& full, int tp) {
  std::vector<int> starts;
  const int L = full.num_layers();
  for (int l = 0; l < L; l += (tp > 1 && l + 1 < L) ? 2 : 1) starts.push_back(l);
  return starts;
}

double macs(const ParamLayout& full, int first, int last) {
  double m = 0;
  for (int l = first; l < last; ++l) m += double(full.layer(l).in) * double(full.layer(l).out);
  return m;
}
}  // namespace

std::vector<int> stage_boundaries(const ParamLayout& full, int pp, int tp) {
  const std::vector<ch05::Split> splits = ch05::tensor_parallel_splits(full);
  if (tp > 1)
    for (int l = 0; l < full.num_layers(); ++l)
      if (splits[std::size_t(l)] == ch05::Split::Columns)
        require_input(full.layer(l).out % tp == 0,
                      "--tp " + std::to_string(tp) + ": does not divide layer " + std::to_string(l + 1) +
                          "'s width " + std::to_string(full.layer(l).out) +
                          " (the hidden widths of the split layers must be multiples of --tp)");
  std::vector<int> starts = unit_starts(full, tp);
  const int units = static_cast<int>(starts.size());
  require_input(pp <= units, "--pp " + std::to_string(pp) + ": the network " +
                                 (tp > 1 ? "splits into " : "has ") + std::to_string(units) +
                                 (tp > 1 ? " units (layer pairs, and an unpaired last layer) with --tp " +
                                               std::to_string(tp)
                                         : " layers") +
                                 ", and every stage needs at least one (add hidden layers or lower --pp)");
  // The units' multiply-adds, cut by chapter 05's balanced partition; back to layer numbers.
  starts.push_back(full.num_layers());  // unit u holds layers [starts[u], starts[u+1])
  std::vector<double> costs;
  for (std::size_t u = 0; u + 1 < starts.size(); ++u) costs.push_back(macs(full, starts[u], starts[u + 1]));
  std::vector<int> bounds;
  for (int b : ch05::balanced_partition(costs, pp)) bounds.push_back(starts[std::size_t(b)]);
  return bounds;
}

RankShard make_rank_shard(const ParamLayout& full, const Grid& grid, const Coords& at) {
  const std::vector<int> bounds = stage_boundaries(full, grid.pp, grid.tp);
  const std::vector<ch05::Split> all_splits = ch05::tensor_parallel_splits(full);
  RankShard r;
  r.first = bounds[std::size_t(at.pp)];
  r.last = bounds[std::size_t(at.pp) + 1];
  const int tp = grid.tp;
  std::vector<int> sizes{full.sizes()[std::size_t(r.first)]};
  for (int l = r.first; l < r.last; ++l) {
    const ch05::Split split = tp > 1 ? all_splits[std::size_t(l)] : ch05::Split::Replicated;
    r.splits.push_back(split);
    sizes.push_back(split == ch05::Split::Columns ? full.layer(l).out / tp : full.layer(l).out);
    if (split == ch05::Split::Rows) sizes[sizes.size() - 2] = full.layer(l).in / tp;
  }
  r.layout = ParamLayout(sizes);
  r.to_full.resize(r.layout.size());
  for (int i = 0; i < r.last - r.first; ++i) {
    const LayerSlot& f = full.layer(r.first + i);
    const LayerSlot& s = r.layout.layer(i);
    const ch05::Split split = r.splits[std::size_t(i)];
    // Where this rank's rows (Columns split) or columns (Rows split) start in the full W.
    const auto row0 = split == ch05::Split::Columns ? std::size_t(at.tp) * std::size_t(s.out) : 0;
    const auto col0 = split == ch05::Split::Rows ? std::size_t(at.tp) * std::size_t(s.in) : 0;
    for (std::size_t row = 0; row < std::size_t(s.out); ++row) {
      for (std::size_t c = 0; c < std::size_t(s.in); ++c) {
        const std::size_t i_local = s.weight + row * std::size_t(s.in) + c;
        r.to_full[i_local] = f.weight + (row0 + row) * std::size_t(f.in) + col0 + c;
      }
      r.to_full[s.bias + row] = f.bias + row0 + row;
    }
  }
  return r;
}

}  // namespace ptt::ch06
