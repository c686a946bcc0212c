# file: common/src/layers.cpp
# todo: 01.3
# mistake: dX += dY W instead of dX = dY W: the input gradient adds to the old contents of the buffer
s/dX->noalias() = dY \* W;/dX->noalias() += dY * W;/
