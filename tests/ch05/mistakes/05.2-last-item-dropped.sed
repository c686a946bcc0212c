# file: solutions/ch05/balanced_partition.cpp
# todo: 05.2
# mistake: the walk back starts from N - 1 items: the last layer belongs to no stage
s|bounds\[P\] = static_cast<int>(N);|bounds[P] = static_cast<int>(N) - 1;|
