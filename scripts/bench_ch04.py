#!/usr/bin/env python3
"""PyTorch peer for chapter 04's step benchmark (ch04_step_bench): the same MLP step on the GPU.

Builds 784-H1-...-10 from nn.Linear layers with ReLU between them and times one training step
(forward, CrossEntropyLoss, backward, SGD with momentum 0.9) in FP32 with TF32 OFF, two ways:

  eager   one Python call per layer and kernel, as most PyTorch code runs;
  graph   the whole step captured in a CUDA graph (torch.cuda.graphs) and replayed — the same
          trick as ch04_cuda --graph, so the comparison is kernel against kernel.

The batch is gathered on the device from a synthetic 4096-sample set by a fixed index buffer,
as ch04_step_bench does. Each configuration: warm-up steps, then --repeats runs of --steps steps
timed with the wall clock around torch.cuda.synchronize(); the median is reported. Prints a
Markdown table and, with --json FILE, the numbers (the same keys as ch04_step_bench --json).

Run it as: python3 scripts/bench_ch04.py [--json torch.json]
"""
import argparse
import json
import statistics
import sys
import time

import torch
from torch import nn

CONFIGS = [((256, 128), 128), ((256, 128), 1024), ((4096, 4096, 4096), 1024)]


def make_model(hidden):
    sizes = [784, *hidden, 10]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).cuda()


def time_steps(step, steps, repeats):
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3 / steps)
    return statistics.median(times)


def bench(hidden, batch, steps, repeats):
    torch.manual_seed(1)
    data_x = torch.randn(4096, 784, device="cuda")
    data_y = torch.randint(0, 10, (4096,), device="cuda")
    index = torch.randint(0, 4096, (batch,), device="cuda")  # the fixed buffer a graph reads
    results = {}
    for mode in ("eager", "graph"):
        model = make_model(hidden)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()

        def step():
            x = data_x.index_select(0, index)
            y = data_y.index_select(0, index)
            opt.zero_grad(set_to_none=False)
            loss_fn(model(x), y).backward()
            opt.step()

        if mode == "eager":
            for _ in range(10):
                step()
            results[mode] = time_steps(step, steps, repeats)
        else:
            side = torch.cuda.Stream()  # warm up on a side stream, as the CUDA-graph docs require
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(10):
                    step()
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                step()
            for _ in range(10):
                graph.replay()
            results[mode] = time_steps(graph.replay, steps, repeats)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (median)")
    parser.add_argument("--json", help="also write the results as JSON")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench_ch04.py: no CUDA device", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False  # FP32, like ch04_cuda
    torch.backends.cudnn.allow_tf32 = False
    rows = []
    print(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name()} (FP32, TF32 off)")
    print("| network | batch | torch eager ms/step | torch graph ms/step |")
    print("| --- | ---: | ---: | ---: |")
    for hidden, batch in CONFIGS:
        r = bench(hidden, batch, args.steps, args.repeats)
        net = "-".join(str(s) for s in (784, *hidden, 10))
        print(f"| {net} | {batch} | {r['eager']:.3f} | {r['graph']:.3f} |", flush=True)
        rows.append({"network": net, "batch": batch, "gemm": "torch", "eager_ms": r["eager"], "graph_ms": r["graph"]})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
