# file: solutions/ch05/microbatches.cpp
# todo: 05.3
# mistake: each micro-batch weighed relative to the first one (n_j / n_0) instead of to the batch (n_j / B): the weights sum to about m
s|mb.weight = static_cast<double>(mb.size()) / static_cast<double>(rows);|mb.weight = static_cast<double>(mb.size()) / static_cast<double>(out[0].size());|
