# file: solutions/ch02/shards.cpp
# todo: 02.3
# mistake: shards 1.. are added over the whole buffer, not only over [begin, end)
s/for (std::size_t i = begin; i < end; ++i) out\[i\] += w \* gk\[i\];/for (std::size_t i = 0; i < out.size(); ++i) out[i] += w * gk[i];/
