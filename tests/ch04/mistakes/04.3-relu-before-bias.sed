# file: solutions/ch04/bias_activation.cu
# todo: 04.3
# mistake: the ReLU is applied to Y before the bias is added (act(Y) + b instead of act(Y + b))
s|const float v = Y\[i\] + b\[i % width\];|const float v = (relu \&\& !(Y[i] > 0.0f) ? 0.0f : Y[i]) + b[i % width];|
s|Y\[i\] = relu ? (v > 0.0f ? v : 0.0f) : v;|Y[i] = v;|
