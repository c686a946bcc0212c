# file: solutions/ch02/parallel_gradient.cpp
# todo: 02.4
# mistake: the stride rounded down to whole lines instead of up: each buffer's last floats are the next buffer's first
s/stride_((length + kLineFloats - 1) \/ kLineFloats \* kLineFloats)/stride_(length \/ kLineFloats * kLineFloats)/
