# file: solutions/ch08/compute_time.cpp
# todo: 08.3
# mistake: interpolated linearly in rows instead of in log(rows)
s|(std::log(rows) - std::log(r\[lo\])) / (std::log(r\[hi\]) - std::log(r\[lo\]))|(rows - r[lo]) / (r[hi] - r[lo])|
