// ptt/train_config.hpp — the flags every chapter takes, as values (README.md, "Every chapter takes
// the same flags"), and the helpers that read them. Parsing them is ptt/cli.hpp's (with CLI11);
// this header stays free of CLI11, so code that only reads a TrainConfig does not compile it (it
// costs seconds per file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ptt {

/// The flags every chapter takes.
struct TrainConfig {
  std::string data_dir;                ///< --data-dir (default: $PTT_DATA_DIR or Debian's path)
  int epochs = 20;                     ///< --epochs
  int batch_size = 128;                ///< --batch-size
  double lr = 0.02;                    ///< --lr
  double momentum = 0.9;               ///< --momentum (SGD only)
  std::string optimizer = "sgd";       ///< --optimizer sgd|adam
  std::string lr_schedule = "cosine";  ///< --lr-schedule constant|cosine
  std::vector<int> hidden{256, 128};   ///< --hidden 256,128
  std::uint64_t seed = 1;              ///< --seed
  long max_steps = 0;                  ///< --max-steps (0: no limit)
  bool no_progress = false;            ///< --no-progress
  std::string metrics;                 ///< --metrics FILE (JSON Lines), empty: none
  std::string checkpoint;              ///< --checkpoint FILE, empty: none
  long checkpoint_every = 0;           ///< --checkpoint-every N steps (0: at each epoch's end only)
  bool resume = false;                 ///< --resume from --checkpoint
};

/// @brief Parses "256,128" into {256, 128}. @throws InputError naming @p option otherwise.
std::vector<int> parse_size_list(const std::string& text, const std::string& option);

/// @brief The number of optimizer steps a run will make: epochs x batches per epoch, or
/// --max-steps if that is smaller (what a learning-rate schedule spans).
long planned_steps(const TrainConfig& cfg, std::size_t batches_per_epoch);

/// @brief The name under which @p value appears in @p names (the map a flag's
/// CLI::CheckedTransformer turns names into enum values with), for reports and checkpoints.
template <class Enum>
std::string name_of(const std::map<std::string, Enum>& names, Enum value) {
  for (const auto& [name, v] : names)
    if (v == value) return name;
  return "?";
}

/// @brief A one-line description of @p cfg, e.g. "784-256-128-10 sgd lr=0.05 ...".
std::string describe(const TrainConfig& cfg, const std::vector<int>& sizes);

}  // namespace ptt
