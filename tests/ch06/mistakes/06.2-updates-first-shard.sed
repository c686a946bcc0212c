# file: solutions/ch06/zero.cpp
# todo: 06.2
# mistake: every rank applies its summed gradient shard to the FIRST shard of the parameters instead of its own
s|shard_optimizer.step(params.subspan(mine.begin, mine.size()), shard_grads);|shard_optimizer.step(params.subspan(0, mine.size()), shard_grads);|
