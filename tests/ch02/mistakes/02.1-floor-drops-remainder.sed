# file: solutions/ch02/shards.cpp
# todo: 02.1
# mistake: every shard gets batch / shards rows (integer division): the last batch % shards rows are in no shard
/out.push_back(shard_range(batch, k, shards));/c\
  const std::size_t q = batch / static_cast<std::size_t>(shards);\
  for (int k = 0; k < shards; ++k) out.push_back(Range{k * q, (k + 1) * q});
