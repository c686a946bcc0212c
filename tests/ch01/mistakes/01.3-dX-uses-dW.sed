# file: common/src/layers.cpp
# todo: 01.3
# mistake: dX = dY dW: the weight gradient is used where the weights belong
s/dX->noalias() = dY \* W;/dX->noalias() = dY * dW;/
