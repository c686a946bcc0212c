# file: solutions/ch04/bias_activation.cu
# todo: 04.3
# mistake: the bound lets a thread handle index rows * cols, one float past the end of Y
s|i < n; i += threads|i <= n; i += threads|
