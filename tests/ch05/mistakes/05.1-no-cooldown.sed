# file: solutions/ch05/schedule.cpp
# todo: 05.1
# mistake: the cool-down is missing: the backwards of the micro-batches still in flight are never run
/while (next_backward < micro) ops.push_back({false, next_backward++});/d
