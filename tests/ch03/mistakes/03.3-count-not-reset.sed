# file: solutions/ch03/gradient_buckets.cpp
# todo: 03.3
# mistake: the byte count is not reset when a bucket closes, so after the first bucket every layer closes one of its own
/      bytes = 0;/d
