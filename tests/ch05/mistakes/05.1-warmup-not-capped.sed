# file: solutions/ch05/schedule.cpp
# todo: 05.1
# mistake: the warm-up is not capped at the number of micro-batches: with fewer micro-batches than stages it runs forwards that do not exist
s/std::min(stages - 1 - stage, micro)/stages - 1 - stage/
