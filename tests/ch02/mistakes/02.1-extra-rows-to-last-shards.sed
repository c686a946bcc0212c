# file: solutions/ch02/shards.cpp
# todo: 02.1
# mistake: the extra rows go to the LAST batch % shards shards instead of the first ones
/out.push_back(shard_range(batch, k, shards));/c\
  const std::size_t q = batch / static_cast<std::size_t>(shards);\
  const int r = static_cast<int>(batch % static_cast<std::size_t>(shards));\
  std::size_t begin = 0;\
  for (int k = 0; k < shards; ++k) {\
    const std::size_t rows = q + (k >= shards - r ? 1 : 0);\
    out.push_back(Range{begin, begin + rows});\
    begin += rows;\
  }
