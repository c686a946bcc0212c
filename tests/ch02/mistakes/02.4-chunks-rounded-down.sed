# file: solutions/ch02/parallel_gradient.cpp
# todo: 02.4
# mistake: the number of chunks rounded down: the parameters after the last whole chunk are never combined
s/const std::size_t chunks = (P + kCombineChunk - 1) \/ kCombineChunk;/const std::size_t chunks = P \/ kCombineChunk;/
