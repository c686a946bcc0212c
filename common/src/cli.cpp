#include "ptt/cli.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "ptt/data.hpp"
#include "ptt/error.hpp"

namespace ptt {

std::vector<int> parse_size_list(const std::string& text, const std::string& option) {
  const std::string what = option + ": '" + text + "' is not a comma-separated list of positive integers";
  std::vector<int> sizes;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    require_input(
        !item.empty() && item.size() <= 6 && item.find_first_not_of("0123456789") == std::string::npos, what);
    const int v = std::stoi(item);
    require_input(v > 0, what);
    sizes.push_back(v);
  }
  require_input(!sizes.empty() && text.back() != ',', what);
  return sizes;
}

void add_train_options(CLI::App& app, TrainConfig& cfg) {
  cfg.data_dir = default_data_dir();
  app.add_option("--data-dir", cfg.data_dir, "Fashion-MNIST directory (IDX files, .gz or plain)")
      ->capture_default_str();
  app.add_option("--epochs", cfg.epochs, "passes over the training set")->capture_default_str();
  app.add_option("--batch-size", cfg.batch_size, "samples per optimizer step")->capture_default_str();
  app.add_option("--lr", cfg.lr, "learning rate")->capture_default_str();
  app.add_option("--momentum", cfg.momentum, "SGD momentum in [0, 1)")->capture_default_str();
  app.add_option("--optimizer", cfg.optimizer, "sgd or adam")->capture_default_str();
  app.add_option("--lr-schedule", cfg.lr_schedule, "constant, or cosine (decays lr to 0 over the run)")
      ->capture_default_str();
  app.add_option_function<std::string>(
         "--hidden", [&cfg](const std::string& s) { cfg.hidden = parse_size_list(s, "--hidden"); },
         "hidden layer widths, e.g. 256,128")
      ->default_str("256,128");
  app.add_option("--seed", cfg.seed, "seed of every random choice")->capture_default_str();
  app.add_option("--max-steps", cfg.max_steps, "stop after this many optimizer steps (0: no limit)")
      ->capture_default_str();
  app.add_flag("--no-progress", cfg.no_progress, "never draw the progress bar");
  app.add_option("--metrics", cfg.metrics, "write per-epoch metrics as JSON Lines to FILE");
  app.add_option("--checkpoint", cfg.checkpoint,
                 "save the training state to FILE (atomically) at each epoch's end");
  app.add_option("--checkpoint-every", cfg.checkpoint_every, "also save every N steps (needs --checkpoint)")
      ->capture_default_str();
  app.add_flag("--resume", cfg.resume, "continue from --checkpoint FILE");
}

namespace {
void validate(const TrainConfig& cfg) {
  require_input(cfg.epochs >= 1, "--epochs: must be at least 1, got " + std::to_string(cfg.epochs));
  require_input(cfg.batch_size >= 1,
                "--batch-size: must be at least 1, got " + std::to_string(cfg.batch_size));
  require_input(cfg.lr > 0.0 && std::isfinite(cfg.lr),
                "--lr: must be a positive number, got " + std::to_string(cfg.lr));
  require_input(cfg.momentum >= 0.0 && cfg.momentum < 1.0,
                "--momentum: must be in [0, 1), got " + std::to_string(cfg.momentum));
  require_input(cfg.optimizer == "sgd" || cfg.optimizer == "adam",
                "--optimizer: unknown optimizer '" + cfg.optimizer + "' (use sgd or adam)");
  require_input(cfg.lr_schedule == "constant" || cfg.lr_schedule == "cosine",
                "--lr-schedule: unknown schedule '" + cfg.lr_schedule + "' (use constant or cosine)");
  require_input(cfg.max_steps >= 0,
                "--max-steps: must be 0 (no limit) or more, got " + std::to_string(cfg.max_steps));
  require_input(!cfg.data_dir.empty(), "--data-dir: must not be empty");
  require_input(cfg.checkpoint_every >= 0,
                "--checkpoint-every: must be 0 or more, got " + std::to_string(cfg.checkpoint_every));
  require_input(!(cfg.checkpoint_every > 0 && cfg.checkpoint.empty()),
                "--checkpoint-every: needs --checkpoint FILE");
  require_input(!(cfg.resume && cfg.checkpoint.empty()), "--resume: needs --checkpoint FILE");
}
}  // namespace

std::optional<int> parse_args(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    // CLI11 messages already name the option; keep them to one line.
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n') c = ' ';
    throw InputError(msg);
  }
  return std::nullopt;
}

std::optional<int> parse_command_line(CLI::App& app, const TrainConfig& cfg, int argc, char** argv) {
  if (auto code = parse_args(app, argc, argv)) return code;
  validate(cfg);
  return std::nullopt;
}

long planned_steps(const TrainConfig& cfg, std::size_t batches_per_epoch) {
  const long total = static_cast<long>(cfg.epochs) * static_cast<long>(batches_per_epoch);
  return cfg.max_steps > 0 ? std::min(total, cfg.max_steps) : total;
}

std::string describe(const TrainConfig& cfg, const std::vector<int>& sizes) {
  std::ostringstream s;
  for (std::size_t i = 0; i < sizes.size(); ++i) s << (i ? "-" : "") << sizes[i];
  s << "  " << cfg.optimizer << " lr=" << cfg.lr;
  if (cfg.optimizer == "sgd") s << " momentum=" << cfg.momentum;
  s << " (" << cfg.lr_schedule << ")";
  s << "  batch=" << cfg.batch_size << "  epochs=" << cfg.epochs << "  seed=" << cfg.seed;
  if (cfg.max_steps > 0) s << "  max-steps=" << cfg.max_steps;
  return s.str();
}

}  // namespace ptt
