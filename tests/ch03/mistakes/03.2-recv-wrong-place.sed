# file: solutions/ch03/ring_allreduce.cpp
# todo: 03.2
# mistake: the received segment is written at rank + 1 - s (where the sent one sits) instead of rank - s
s/const Range recv = ring_segment(n, ring.rank - s, p);/const Range recv = ring_segment(n, ring.rank + 1 - s, p);/
