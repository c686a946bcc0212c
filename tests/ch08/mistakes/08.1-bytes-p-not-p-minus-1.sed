# file: solutions/ch08/step_time.cpp
# todo: 08.1
# mistake: the ring's bytes with p steps per half instead of p-1: 2N per rank whatever p
s|return 2.0 \* (p - 1) / p \* bytes;|return 2.0 * p / p * bytes;|
