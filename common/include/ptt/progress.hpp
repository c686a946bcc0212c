// ptt/progress.hpp — a one-line progress bar on stderr, shown only when stderr is a terminal.
#pragma once

#include <cstddef>
#include <string>

namespace ptt {

class ProgressBar {
 public:
  /// @param label   printed before the bar, e.g. "epoch 3".
  /// @param total   the number of steps that make 100 %.
  /// @param enabled the caller's wish (false with --no-progress); the bar also stays silent when
  ///        stderr is not a terminal, so logs and pipes never receive control characters.
  ProgressBar(std::string label, std::size_t total, bool enabled);
  ~ProgressBar();
  /// Shows @p done of total with the running loss; redraws at most ~10 times a second.
  void update(std::size_t done, double loss);
  /// Clears the line.
  void finish();
  bool active() const { return active_; }

 private:
  std::string label_;
  std::size_t total_;
  bool active_;
  double last_draw_ = -1.0;
  double start_;
};

/// True when file descriptor 2 is a terminal.
bool stderr_is_terminal();

}  // namespace ptt
