# file: solutions/ch02/shards.cpp
# todo: 02.1
# mistake: all batch % shards leftover rows go to the last shard, so sizes can differ by more than one
/out.push_back(shard_range(batch, k, shards));/c\
  const std::size_t q = batch / static_cast<std::size_t>(shards);\
  for (int k = 0; k < shards; ++k) out.push_back(Range{k * q, k == shards - 1 ? batch : (k + 1) * q});
