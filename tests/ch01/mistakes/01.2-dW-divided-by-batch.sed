# file: common/src/layers.cpp
# todo: 01.2
# mistake: dW is divided by the batch size, although dY already carries the 1/B of the mean loss
s/dW.noalias() = dY.transpose() \* X;/dW.noalias() = dY.transpose() * X \/ static_cast<float>(X.rows());/
