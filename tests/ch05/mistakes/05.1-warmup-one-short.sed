# file: solutions/ch05/schedule.cpp
# todo: 05.1
# mistake: off by one: stage s warms up with p - 2 - s forwards instead of p - 1 - s
s/std::min(stages - 1 - stage, micro)/std::min(stages - 2 - stage, micro)/
