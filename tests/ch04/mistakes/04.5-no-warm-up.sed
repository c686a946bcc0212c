# file: solutions/ch04/graph_step.cpp
# todo: 04.5
# mistake: the first full step is captured at once, without the eager warm-up (cuBLAS would initialise inside the capture)
/if (!s.warmed_up) return StepLaunch::eager;/d
