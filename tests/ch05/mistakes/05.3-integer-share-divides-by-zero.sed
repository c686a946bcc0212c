# file: solutions/ch05/microbatches.cpp
# todo: 05.3
# mistake: the weight as one over "how many micro-batches of this size fit in the batch", in integers: an empty micro-batch divides by zero (and uneven shares are rounded)
s|mb.weight = static_cast<double>(mb.size()) / static_cast<double>(rows);|mb.weight = 1.0 / static_cast<double>(rows / mb.size());|
