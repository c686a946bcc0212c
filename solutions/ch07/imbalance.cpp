// Chapter 07: an imbalanced training set, class weights and the per-class report (see imbalance.hpp).
#include "ch07/imbalance.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "ch07/stratified_split.hpp"
#include "ptt/error.hpp"
#include "ptt/rng.hpp"

namespace ptt::ch07 {

namespace {
constexpr std::uint64_t kImbalanceStream = kSplitStream + (std::uint64_t{4} << 20);
constexpr std::uint64_t kResampleStream = kSplitStream + (std::uint64_t{1} << 36);  // + step
}  // namespace

Imbalance parse_imbalance(const std::string& text, int classes) {
  const auto colon = text.find(':');
  require_input(colon != std::string::npos && colon > 0 && colon + 1 < text.size(),
                "--imbalance: '" + text + "' is not CLASSES:FRACTION (e.g. 0,2,4:0.05)");
  Imbalance result;
  std::stringstream list(text.substr(0, colon));
  std::string item;
  while (std::getline(list, item, ',')) {
    std::size_t used = 0;
    int c = -1;
    try {
      c = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    require_input(used == item.size() && used > 0, "--imbalance: '" + item + "' is not a class number");
    require_input(c >= 0 && c < classes, "--imbalance: there is no class " + item + " (the classes are 0.." +
                                             std::to_string(classes - 1) + ")");
    if (std::find(result.classes.begin(), result.classes.end(), c) == result.classes.end())
      result.classes.push_back(c);
  }
  const std::string f = text.substr(colon + 1);
  std::size_t used = 0;
  try {
    result.fraction = std::stod(f, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require_input(used == f.size() && used > 0, "--imbalance: '" + f + "' is not a fraction");
  require_input(result.fraction > 0.0 && result.fraction <= 1.0,
                "--imbalance: the fraction kept must be in (0, 1] (got " + f + ")");
  return result;
}

std::vector<std::uint8_t> imbalance_keep(std::span<const std::uint8_t> labels, const Imbalance& imbalance,
                                         std::uint64_t seed) {
  std::vector<std::uint8_t> keep(labels.size(), 1);
  for (int c : imbalance.classes) {
    std::vector<std::uint32_t> members;
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == c) members.push_back(static_cast<std::uint32_t>(i));
    auto rng = make_rng(seed, RngPurpose::Shuffle, kImbalanceStream + static_cast<std::uint64_t>(c));
    std::shuffle(members.begin(), members.end(), rng);
    const auto kept = std::max<std::size_t>(
        1, static_cast<std::size_t>(std::lround(imbalance.fraction * static_cast<double>(members.size()))));
    for (std::size_t j = kept; j < members.size(); ++j) keep[members[j]] = 0;
  }
  return keep;
}

std::vector<double> inverse_frequency_weights(std::span<const std::uint8_t> labels,
                                              std::span<const std::uint8_t> keep, int classes) {
  std::vector<double> count(static_cast<std::size_t>(classes), 0.0);
  double n = 0.0;
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (keep[i]) count[labels[i]] += 1.0, n += 1.0;
  const auto present =
      static_cast<double>(std::count_if(count.begin(), count.end(), [](double x) { return x > 0; }));
  std::vector<double> w(count.size(), 0.0);
  for (std::size_t c = 0; c < count.size(); ++c)
    if (count[c] > 0) w[c] = n / (present * count[c]);
  return w;
}

std::vector<std::uint32_t> class_balanced_draw(const std::vector<std::vector<std::uint32_t>>& members,
                                               std::size_t count, std::uint64_t seed, long step) {
  std::vector<std::size_t> present;
  for (std::size_t c = 0; c < members.size(); ++c)
    if (!members[c].empty()) present.push_back(c);
  std::vector<std::uint32_t> drawn;
  if (present.empty()) return drawn;
  auto rng = make_rng(seed, RngPurpose::Shuffle, kResampleStream + static_cast<std::uint64_t>(step));
  std::uniform_int_distribution<std::size_t> pick_class(0, present.size() - 1);
  for (std::size_t j = 0; j < count; ++j) {
    const auto& of_class = members[present[pick_class(rng)]];
    std::uniform_int_distribution<std::size_t> pick(0, of_class.size() - 1);
    drawn.push_back(of_class[pick(rng)]);
  }
  return drawn;
}

ClassReport class_report(const ConfusionMatrix& confusion) {
  const int k = confusion.classes();
  ClassReport r;
  for (int c = 0; c < k; ++c) {
    long truth = 0, predicted = 0;
    for (int j = 0; j < k; ++j) truth += confusion.at(c, j), predicted += confusion.at(j, c);
    const double hit = static_cast<double>(confusion.at(c, c));
    const double recall = truth > 0 ? hit / static_cast<double>(truth) : 0.0;
    const double precision = predicted > 0 ? hit / static_cast<double>(predicted) : 0.0;
    r.recall.push_back(recall);
    r.precision.push_back(precision);
    r.f1.push_back(recall + precision > 0 ? 2 * recall * precision / (recall + precision) : 0.0);
    r.macro_f1 += r.f1.back() / k;
    r.macro_recall += recall / k;
  }
  return r;
}

}  // namespace ptt::ch07
