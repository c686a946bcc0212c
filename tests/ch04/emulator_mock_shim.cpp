// Lets tests/ch04/orchestration_test.cpp, written for the host stand-ins of mock_cuda.cpp, run on
// the CUDA emulator instead: the one thing it observes of the stand-ins, the number of graph
// launches, is counted here from the emulator's cudaGraphLaunch.
#include "mock_cuda.hpp"
#include "ptt_emu/emulator.hpp"

namespace ptt::mock {
int graph_launches = 0;
}  // namespace ptt::mock

namespace {
const bool observer_installed = [] {
  ptt::emu::set_graph_launch_observer([] { ++ptt::mock::graph_launches; });
  return true;
}();
}  // namespace
