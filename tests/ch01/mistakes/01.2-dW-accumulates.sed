# file: common/src/layers.cpp
# todo: 01.2
# mistake: dW += dY^T X instead of dW = dY^T X: the gradient adds to the old contents of the buffer
s/dW.noalias() = dY.transpose() \* X;/dW.noalias() += dY.transpose() * X;/
