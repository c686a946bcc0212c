# file: solutions/ch03/gradient_buckets.cpp
# todo: 03.3
# mistake: the buckets are filled from the first layer up, the order of the forward pass, so the top layers, which backward finishes first, wait in the last bucket
s|std::size_t end = layout.size(); .*$|std::size_t begin = 0;|
s|for (int l = layout.num_layers() - 1; l >= 0; --l) {.*$|for (int l = 0; l < layout.num_layers(); ++l) {|
s|if (bytes >= bucket_bytes \|\| l == 0) {.*$|if (bytes >= bucket_bytes \|\| l + 1 == layout.num_layers()) {|
s|buckets.push_back(GradientBucket{l, s.weight, end});|buckets.push_back(GradientBucket{l, begin, s.end});|
s|      end = s.weight;|      begin = s.end;|
