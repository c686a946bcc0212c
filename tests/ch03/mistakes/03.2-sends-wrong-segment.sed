# file: solutions/ch03/ring_allreduce.cpp
# todo: 03.2
# mistake: sends segment rank - s (the one it is about to receive) instead of rank + 1 - s (the complete one)
s/const Range send = ring_segment(n, ring.rank + 1 - s, p);/const Range send = ring_segment(n, ring.rank - s, p);/
