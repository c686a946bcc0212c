// ptt/timer.hpp — wall-clock timers and the per-phase breakdown of a training step.
//
// A step has up to five phases: data (gather the batch), forward, backward (loss and gradients),
// reduce (combine the gradients of parallel workers; zero in the serial chapter) and update
// (optimizer). Where the time goes is what motivates every later chapter.
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

enum class Phase { Data = 0, Forward = 1, Backward = 2, Reduce = 3, Update = 4 };
inline constexpr int kNumPhases = 5;
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
  void add(Phase p, double seconds) { seconds_[static_cast<int>(p)] += seconds; }
  double seconds(Phase p) const { return seconds_[static_cast<int>(p)]; }
  double total() const;
  void reset() { seconds_.fill(0.0); }

 private:
  std::array<double, kNumPhases> seconds_{};
};

}  // namespace ptt
