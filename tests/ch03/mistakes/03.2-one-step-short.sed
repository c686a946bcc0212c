# file: solutions/ch03/ring_allreduce.cpp
# todo: 03.2
# mistake: off by one: p - 2 steps instead of p - 1, so one segment never reaches each rank
/void ring_all_gather/,/^}/s/s < p - 1/s < p - 2/
