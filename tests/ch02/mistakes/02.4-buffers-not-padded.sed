# file: solutions/ch02/parallel_gradient.cpp
# todo: 02.4
# mistake: the buffers packed end to end (stride = length): the end of one and the start of the next share a cache line, so two threads write to the same line (false sharing)
s/stride_((length + kLineFloats - 1) \/ kLineFloats \* kLineFloats)/stride_(length)/
