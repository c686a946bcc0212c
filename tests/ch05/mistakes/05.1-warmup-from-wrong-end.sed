# file: solutions/ch05/schedule.cpp
# todo: 05.1
# mistake: the warm-up counts from the wrong end: stage s runs s forwards first instead of p - 1 - s
s/std::min(stages - 1 - stage, micro)/std::min(stage, micro)/
