# file: solutions/ch07/model_average.cpp
# todo: 07.2
# mistake: only the parameters are averaged; the optimizer state (momentum, Adam's moments) stays per rank
/weighted_sum(state, weight, comm);/d
