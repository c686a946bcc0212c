# file: solutions/ch08/compute_time.cpp
# todo: 08.3
# mistake: the contention factor upside down, cores / workers (faster with spare cores, no slower when oversubscribed)
s|std::max(1.0, busy_workers / cores)|std::max(1.0, cores / busy_workers)|
