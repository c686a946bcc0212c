# file: solutions/ch03/gradient_buckets.cpp
# todo: 03.3
# mistake: a bucket closes only once it holds MORE than bucket_bytes, not as soon as it holds that much
s|if (bytes >= bucket_bytes \|\| l == 0)|if (bytes > bucket_bytes \|\| l == 0)|
