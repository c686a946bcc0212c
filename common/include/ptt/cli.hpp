// ptt/cli.hpp — the command-line contract every chapter shares (README.md, "Every chapter takes the
// same flags"), with CLI11.
//
// A chapter adds its own flags to the CLI::App after add_train_options(); parse_command_line()
// turns every mistake into an InputError (one line, exit code 2).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <optional>
#include <string>

#include "ptt/train_config.hpp"

namespace ptt {

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

}  // namespace ptt
