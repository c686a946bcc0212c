# file: solutions/ch04/graph_step.cpp
# todo: 04.5
# mistake: captured and not-captured swapped: the first step after the warm-up replays a graph that does not exist yet
s|if (!s.captured) return StepLaunch::capture;|if (s.captured) return StepLaunch::capture;|
