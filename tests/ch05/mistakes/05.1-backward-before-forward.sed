# file: solutions/ch05/schedule.cpp
# todo: 05.1
# mistake: the steady state runs the backward before the forward (1B1F), one micro-batch too early
/ops.push_back({true, next_forward++});/{
N
s/.*/    ops.push_back({false, next_backward++});\n    ops.push_back({true, next_forward++});/
}
