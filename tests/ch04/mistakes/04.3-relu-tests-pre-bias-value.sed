# file: solutions/ch04/bias_activation.cu
# todo: 04.3
# mistake: the ReLU keeps or zeroes Y + b by the sign of Y before the bias (the mask from the pre-bias value)
s|Y\[i\] = relu ? (v > 0.0f ? v : 0.0f) : v;|Y[i] = relu ? (Y[i] > 0.0f ? v : 0.0f) : v;|
