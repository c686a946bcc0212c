# file: solutions/ch04/graph_step.cpp
# todo: 04.5
# mistake: every full step after the warm-up records the graph again instead of replaying it
s|if (!s.captured) return StepLaunch::capture;|return StepLaunch::capture;|
