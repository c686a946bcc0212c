# file: solutions/ch08/compute_time.cpp
# todo: 08.3
# mistake: workers / cores applied even when the cores outnumber the workers (idle cores make a worker faster)
s|std::max(1.0, busy_workers / cores)|busy_workers / cores|
