# file: solutions/ch03/ring_allreduce.cpp
# todo: 03.1
# mistake: the incoming segment is added to the segment just sent (rank - s) instead of rank - s - 1
s/const Range recv = ring_segment(n, ring.rank - s - 1, p);/const Range recv = ring_segment(n, ring.rank - s, p);/
