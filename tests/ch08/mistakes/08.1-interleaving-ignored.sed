# file: solutions/ch08/step_time.cpp
# todo: 08.1
# mistake: v chunks per worker ignored: the interleaved bubble stays (p-1)/m
s|static_cast<double>(p - 1) / v)|static_cast<double>(p - 1))|
