// mock_cuda.hpp — what tests can observe of the host stand-in for CUDA (mock_cuda.cpp).
#pragma once

namespace ptt::mock {
/// cudaGraphLaunch calls so far (each replays the captured step).
extern int graph_launches;
}  // namespace ptt::mock
