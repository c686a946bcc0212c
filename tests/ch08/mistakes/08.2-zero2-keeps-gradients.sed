# file: solutions/ch08/memory.cpp
# todo: 08.2
# mistake: ZeRO-2 does not shard the gradients (only stage 3 does)
s|in.zero_stage >= 2 ? shard|in.zero_stage >= 3 ? shard|
