# file: solutions/ch05/microbatches.cpp
# todo: 05.3
# mistake: every micro-batch weighs 1/m whatever its size: uneven micro-batches' rows count unequally, and empty ones count too
s|mb.weight = static_cast<double>(mb.size()) / static_cast<double>(rows);|mb.weight = 1.0 / static_cast<double>(m);|
