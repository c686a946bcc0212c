# file: solutions/ch08/step_time.cpp
# todo: 08.1
# mistake: the latency of the reduce-scatter's p-1 messages only, forgetting the all-gather's
s|return 2.0 \* (p - 1) \* link.alpha_s|return (p - 1) * link.alpha_s|
