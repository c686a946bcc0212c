# file: solutions/ch07/proportional_counts.cpp
# todo: 07.3
# mistake: the samples left over go to the heaviest (fastest) ranks instead of to the largest remainders
s|return remainder\[a\] > remainder\[b\];|return weights[a] > weights[b];|
