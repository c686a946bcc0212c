// ptt/timer.hpp — wall-clock timers and the per-phase breakdown of a training step.
//
// A step's time is booked to the phases the strategy really has: data (gather the batch), forward,
// backward (loss and gradients), reduce (combine or communicate the gradients of parallel
// workers), update (optimizer); a fused GPU step is one phase ("step"); model-parallel workers
// that interleave forward and backward report their busy time ("compute"), their all-reduces
// ("reduce") and their waiting ("idle"). A phase that never ran is never printed or logged.
// Where the time goes is what motivates every later chapter.
#pragma once

#include <array>
#include <chrono>
#include <string>

namespace ptt {

/// Seconds since construction or the last reset().
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void reset() { start_ = std::chrono::steady_clock::now(); }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

enum class Phase { Data = 0, Forward, Backward, Reduce, Update, Step, Compute, Idle };
inline constexpr int kNumPhases = 8;
const char* phase_name(Phase p);

/// Accumulated seconds per phase.
class PhaseTimer {
 public:
  /// Times one phase for as long as it lives: { auto t = timer.scope(Phase::Forward); ... }.
  class Scope {
   public:
    Scope(PhaseTimer& owner, Phase p) : owner_(owner), phase_(p) {}
    ~Scope() { owner_.add(phase_, watch_.seconds()); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    PhaseTimer& owner_;
    Phase phase_;
    Stopwatch watch_;
  };
  Scope scope(Phase p) { return Scope(*this, p); }
  void add(Phase p, double seconds) {
    seconds_[static_cast<int>(p)] += seconds;
    ran_[static_cast<int>(p)] = true;
  }
  double seconds(Phase p) const { return seconds_[static_cast<int>(p)]; }
  /// True once any time was booked to @p p (a phase the strategy really has).
  bool ran(Phase p) const { return ran_[static_cast<int>(p)]; }
  double total() const;
  void reset() {
    seconds_.fill(0.0);
    ran_.fill(false);
  }

 private:
  std::array<double, kNumPhases> seconds_{};
  std::array<bool, kNumPhases> ran_{};
};

}  // namespace ptt
