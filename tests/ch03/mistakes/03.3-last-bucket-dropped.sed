# file: solutions/ch03/gradient_buckets.cpp
# todo: 03.3
# mistake: the layers left at the bottom that do not fill a bucket are never put in one: their gradients are not all-reduced
s|if (bytes >= bucket_bytes \|\| l == 0)|if (bytes >= bucket_bytes)|
