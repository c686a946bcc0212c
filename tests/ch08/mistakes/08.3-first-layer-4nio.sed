# file: solutions/ch08/compute_time.cpp
# todo: 08.3
# mistake: the network's first layer also computes dX: 4 n I O backward for every layer
s|(l.first ? 2.0 : 4.0) \* nio|4.0 * nio|
