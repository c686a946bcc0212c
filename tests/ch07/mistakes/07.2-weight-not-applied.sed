# file: solutions/ch07/model_average.cpp
# todo: 07.2
# mistake: the buffers are summed without scaling by the rank's weight: the sum, not the weighted mean
/for (float& x : buffer) x \*= w;/d
