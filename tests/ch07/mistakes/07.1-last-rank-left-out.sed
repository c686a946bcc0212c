# file: solutions/ch07/stratified_split.cpp
# todo: 07.1
# mistake: off by one: the turn wraps modulo ranks - 1, so the last rank gets no samples
s/next = (next + 1) % shards.size();/next = (next + 1) % (shards.size() - 1);/
