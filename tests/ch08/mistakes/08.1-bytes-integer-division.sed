# file: solutions/ch08/step_time.cpp
# todo: 08.1
# mistake: 2 (p-1) / p in integer arithmetic: 1 instead of 1.5 for p = 4
s|return 2.0 \* (p - 1) / p \* bytes;|return 2 * (p - 1) / p * bytes;|
