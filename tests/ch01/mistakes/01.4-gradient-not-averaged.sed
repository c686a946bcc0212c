# file: common/src/layers.cpp
# todo: 01.4
# mistake: the gradient is not divided by the batch size B (the loss is a mean, so its gradient must be too)
/dlogits \/= static_cast<float>(B);/d
