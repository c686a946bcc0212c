# file: solutions/ch08/memory.cpp
# todo: 08.2
# mistake: stages counted from 2: ZeRO-1 shards nothing
s|in.zero_stage >= 1 ? shard|in.zero_stage > 1 ? shard|
