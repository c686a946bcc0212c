# file: solutions/ch08/memory.cpp
# todo: 08.2
# mistake: the paper's exact division psi / dp, a fraction of a parameter, where the largest whole shard is ceil(psi / dp)
s|const double shard = std::ceil(in.params / in.dp);|const double shard = in.params / in.dp;|
