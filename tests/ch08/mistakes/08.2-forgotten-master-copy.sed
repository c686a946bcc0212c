# file: solutions/ch08/memory.cpp
# todo: 08.2
# mistake: mixed precision without the fp32 master copy of the parameters: K = 4k (8 for Adam) instead of 4 + 4k (12)
s|mixed ? 4.0 + 4.0 \* in.optimizer_k : |mixed ? 4.0 * in.optimizer_k : |
