# file: solutions/ch02/shards.cpp
# todo: 02.3
# mistake: empty shards (weight 0) are not skipped: 0 * garbage is NaN when their buffer holds NaN or Inf
/if (weights\[k\] == 0.0f) continue;/d
