// ptt/metrics_log.hpp — the --metrics file: JSON Lines, written so that it is complete or absent.
//
// Lines go to a temporary file beside the target; only commit() (after the final line) renames it
// into place. A run that fails or is killed never leaves a file that looks complete, and an
// existing file of the same name stays untouched until the new one is whole.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace ptt {

class MetricsLog {
 public:
  /// @brief Opens the temporary file now, so an unwritable path fails before any training.
  /// An empty @p path makes a log that writes nothing. @p flag names the file in messages
  /// (another JSON output, e.g. chapter 05's --trace, uses the same all-or-nothing writing).
  /// @throws InputError "--metrics PATH: cannot write: reason".
  explicit MetricsLog(std::string path, std::string flag = "--metrics");
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  /// Appends one JSON object as one line.
  void write(const nlohmann::json& record);
  /// Flushes, syncs and renames the file into place.
  void commit();
  bool enabled() const { return file_ != nullptr; }

 private:
  std::string path_;
  std::string flag_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
};

}  // namespace ptt
