# file: solutions/ch04/graph_step.cpp
# todo: 04.5
# mistake: --graph off is ignored: full batches are captured and replayed anyway
/if (!s.graph_enabled) return StepLaunch::eager;/d
