# file: solutions/ch04/graph_step.cpp
# todo: 04.5
# mistake: the epoch's short last batch replays the graph recorded for full batches (wrong row count, wrong grids)
/if (s.rows != s.max_batch) return StepLaunch::eager;/d
