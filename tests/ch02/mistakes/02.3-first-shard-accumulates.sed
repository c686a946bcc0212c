# file: solutions/ch02/shards.cpp
# todo: 02.3
# mistake: shard 0 adds to out instead of initialising it: out keeps whatever it held before
s/out\[i\] = weights\[0\] \* g0\[i\];/out[i] += weights[0] * g0[i];/
