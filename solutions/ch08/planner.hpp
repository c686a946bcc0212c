// solutions/ch08/planner.hpp — chapter 08's planner: every way to lay W workers out as a
// dp x pp x tp grid with m micro-batches, a schedule and a ZeRO stage, predicted by the cost
// model and ranked by samples per second among the layouts that fit in memory.
#pragma once

#include <string>
#include <vector>

#include "ch08/cost_model.hpp"

namespace ptt::ch08 {

/// One candidate and its prediction.
struct PlanEntry {
  Layout layout;
  Prediction prediction;
};

/// @brief Every valid layout of @p workers workers (dp pp tp = workers; m in 1, 2, 4, ..., 64 up to
/// the rows per replica; GPipe and 1F1B when m > 1; ZeRO 0-3 when dp > 1), ranked: the layouts
/// that fit first, by samples/s (descending), then the rest by memory; equal speeds by memory, then by their
/// description.
std::vector<PlanEntry> plan(const Model& model, int workers, const Machine& machine);

/// @brief One line saying why @p entry is fast (or what it pays), e.g. "tp 8 keeps its
/// all-reduces inside a node; pp 4 bubble 16 % at m=16".
std::string reason(const PlanEntry& entry, const Model& model, const Machine& machine);

/// @brief Parses "dp=2,pp=2,tp=8,m=16,zero=1,schedule=1f1b" (any order; missing keys take
/// Layout's defaults). @throws InputError naming @p option for an unknown key or a bad value.
Layout parse_layout(const std::string& text, const std::string& option);

}  // namespace ptt::ch08
