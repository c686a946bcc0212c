# file: solutions/ch03/ring_allreduce.cpp
# todo: 03.1
# mistake: sends to the left neighbour and receives from the right, while the segment indices assume the other direction
/void ring_reduce_scatter/,/^}/{
s/ring\.right/RING_RIGHT/
s/ring\.left/ring.right/
s/RING_RIGHT/ring.left/
}
