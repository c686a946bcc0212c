# file: solutions/ch05/microbatches.cpp
# todo: 05.3
# mistake: the extra rows go to the LAST B mod m micro-batches instead of the first (the rows are all there, but not the contract's cut)
s|mb.begin = j \* base + std::min(j, extra);|mb.begin = j * base + (j + extra > m ? j + extra - m : 0);|
s|mb.end = mb.begin + base + (j < extra ? 1 : 0);|mb.end = mb.begin + base + (j + extra >= m ? 1 : 0);|
