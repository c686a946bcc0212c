# file: solutions/ch03/ring_allreduce.cpp
# todo: 03.1
# mistake: off by one: p - 2 steps instead of p - 1, so no segment holds every rank's contribution
/void ring_reduce_scatter/,/^}/s/s < p - 1/s < p - 2/
