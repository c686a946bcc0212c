# file: solutions/ch08/step_time.cpp
# todo: 08.1
# mistake: a fill and drain of p stage times instead of p-1: (m + p)(t_f + t_b)
s|static_cast<double>(p - 1) / v|static_cast<double>(p) / v|
