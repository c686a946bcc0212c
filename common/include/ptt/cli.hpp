// ptt/cli.hpp — the command-line contract every chapter shares (README.md, "Every chapter takes the
// same flags"), with CLI11.
//
// A chapter adds its own flags to the CLI::App after add_train_options(); parse_command_line()
// turns every mistake into an InputError (one line, exit code 2).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <map>
#include <optional>
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

/// @brief Registers the common flags on @p app, writing into @p cfg.
void add_train_options(CLI::App& app, TrainConfig& cfg);

/// @brief Parses argv into the options registered on @p app (for programs without the training
/// flags, e.g. benchmarks). @return 0 after printing --help; std::nullopt when the program should
/// go on. @throws InputError (one line naming the option) for any bad flag or value.
std::optional<int> parse_args(CLI::App& app, int argc, char** argv);

/// @brief Parses argv into the options registered on @p app and validates the common ones in @p cfg.
/// @return 0 after printing --help; std::nullopt when the program should go on.
/// @throws InputError (one line naming the option) for any bad flag or value.
std::optional<int> parse_command_line(CLI::App& app, const TrainConfig& cfg, int argc, char** argv);

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

/// @brief Adds a flag whose value is one of the names in @p names, stored as the matching enum
/// value in @p value (its current value is the default). Any other name is refused with one line:
/// "--flag: unknown value 'x' (use a, b or c)".
template <class Enum>
CLI::Option* add_choice(CLI::App& app, const std::string& flag, Enum& value,
                        const std::map<std::string, Enum>& names, const std::string& help) {
  std::string list;  // "a, b or c"
  std::size_t k = 0;
  for (const auto& entry : names) {
    list += (k == 0 ? "" : k + 1 == names.size() ? " or " : ", ") + entry.first;
    ++k;
  }
  return app
      .add_option_function<std::string>(
          flag,
          [&value, names, flag, list](const std::string& text) {
            const auto it = names.find(text);
            if (it == names.end())
              throw CLI::ValidationError(flag, "unknown value '" + text + "' (use " + list + ")");
            value = it->second;
          },
          help)
      ->default_str(name_of(names, value));
}

/// @brief A one-line description of @p cfg, e.g. "784-256-128-10 sgd lr=0.05 ...".
std::string describe(const TrainConfig& cfg, const std::vector<int>& sizes);

}  // namespace ptt
