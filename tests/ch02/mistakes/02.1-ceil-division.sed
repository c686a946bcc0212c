# file: solutions/ch02/shards.cpp
# todo: 02.1
# mistake: shards of ceil(batch / shards) rows, the last ones cut at batch: sizes can differ by more than one
/out.push_back(shard_range(batch, k, shards));/c\
  const std::size_t q = (batch + static_cast<std::size_t>(shards) - 1) / static_cast<std::size_t>(shards);\
  for (int k = 0; k < shards; ++k) {\
    const std::size_t b = k * q < batch ? k * q : batch, e = (k + 1) * q < batch ? (k + 1) * q : batch;\
    out.push_back(Range{b, e});\
  }
