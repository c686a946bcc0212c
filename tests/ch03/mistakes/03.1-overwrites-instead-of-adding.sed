# file: solutions/ch03/ring_allreduce.cpp
# todo: 03.1
# mistake: the received partial sum replaces the local one instead of being added to it
s/mine\[i\] += incoming\[i\];/mine[i] = incoming[i];/
