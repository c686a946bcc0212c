# file: solutions/ch04/bias_activation.cu
# todo: 04.3
# mistake: the bias is picked by the element's row (i / cols) instead of its column (i % cols)
s|b\[i % width\]|b[i / width]|
