# file: solutions/ch08/memory.cpp
# todo: 08.2
# mistake: one fp32 state per parameter whatever the optimizer: Adam's second moment forgotten
s|: 4.0 \* in.optimizer_k;|: 4.0;|
