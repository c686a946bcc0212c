#include "ptt/timer.hpp"

namespace ptt {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::Data:
      return "data";
    case Phase::Forward:
      return "forward";
    case Phase::Backward:
      return "backward";
    case Phase::Reduce:
      return "reduce";
    case Phase::Update:
      return "update";
    case Phase::Step:
      return "step";
    case Phase::Compute:
      return "compute";
    case Phase::Idle:
      return "idle";
  }
  return "?";
}

double PhaseTimer::total() const {
  double t = 0.0;
  for (double s : seconds_) t += s;
  return t;
}

}  // namespace ptt
