# file: solutions/ch08/compute_time.cpp
# todo: 08.3
# mistake: the contention factor upside down, cores / workers (faster with spare cores, no slower when oversubscribed)
s|std::max(1.0, static_cast<double>(workers_on_node) / cores)|std::max(1.0, cores / static_cast<double>(workers_on_node))|
