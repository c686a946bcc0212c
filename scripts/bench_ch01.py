#!/usr/bin/env python3
"""Chapter 01 benchmark: the serial trainer's samples/s next to PyTorch's, in one run.

Both sides train the same MLP with the same batch size, thread count and optimizer
(SGD, lr 0.01, momentum 0.9, float32):

    784-256-128-10    at batch 128
    784-1024-1024-10  at batch 256

Target: chapter 01 >= 0.8x PyTorch on both. The machine is shared and noisy, so each
side runs --repeats times, interleaved (A B, B A, ...) so both see the same noise, and
we report the median with the spread (min-max). Only ratios from one run on one
machine mean anything; there is no timing assert anywhere.

Run it as:  /usr/bin/python3 scripts/bench_ch01.py [--repeats 5] [--json out.json]
(/usr/bin/python3 because Debian's python3-torch lives there, not in a pyenv.)
Chapter 01 is serial by design: --threads N > 1 only gives PyTorch (and any
OpenMP inside chapter 01) N threads; the issue's target is about 1 thread.
Exit codes: 0 done, 2 missing binary / torch / data, 1 a child failed otherwise.
"""
import argparse
import datetime
import importlib.util
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "torch_mlp_peer.py")
TARGET = 0.8  # chapter 01 samples/s >= TARGET * PyTorch samples/s

# (hidden widths, batch size, timed steps). Steps are chosen so that one training
# run takes ~2-3 s on a recent x86 core; --quick divides them by 10.
CONFIGS = [("256,128", 128, 450), ("1024,1024", 256, 80)]  # 450 < 469 batches: one epoch


def fail(code, message):
    print(f"bench_ch01: {message}", file=sys.stderr)
    sys.exit(code)


def run_child(cmd, env):
    """Runs one child; on failure repeats its last stderr line and exits with its code."""
    result = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        fail(2 if result.returncode == 2 else 1, f"{shlex.join(cmd)} failed: {last}")
    if result.stderr.strip() and "warning" in result.stderr:
        print(result.stderr.strip(), file=sys.stderr)  # e.g. the peer's reference-BLAS warning
    return result.stdout


def ch01_samples_per_s(cmd, metrics_path, env):
    """Runs chapter 01 and reads the epoch record of its JSON Lines metrics.

    We use the epoch's samples_per_s (training steps only), not the final record's,
    because the final run also covers loading and evaluating the test set.
    """
    run_child(cmd, env)
    with open(metrics_path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    epochs = [r for r in records if "epoch" in r and not r.get("final")]
    final = next(r for r in records if r.get("final"))
    return epochs[0]["samples_per_s"], final.get("phase_seconds", {})


def spread(samples):
    return {"samples": samples, "median": statistics.median(samples),
            "min": min(samples), "max": max(samples)}


def machine_info():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "nproc": len(os.sched_getaffinity(0)),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "loadavg_at_start": os.getloadavg()[0], "python": sys.executable,
            "command": shlex.join([os.path.relpath(sys.argv[0]) if os.path.exists(sys.argv[0]) else sys.argv[0],
                                   *sys.argv[1:]])}


def main():
    parser = argparse.ArgumentParser(description="Chapter 01 vs PyTorch, samples/s.")
    parser.add_argument("--repeats", type=int, default=None, help="runs per side (default 5; 1 with --quick)")
    parser.add_argument("--threads", type=int, default=1, help="threads for PyTorch and OMP_NUM_THREADS")
    parser.add_argument("--json", metavar="FILE", help="write raw samples, medians and machine info")
    parser.add_argument("--ch01", default="build/release/chapters/01_serial/ch01_serial")
    parser.add_argument("--data-dir", help="passed to chapter 01 (else $PTT_DATA_DIR or its default)")
    parser.add_argument("--quick", action="store_true", help="10x fewer steps, for smoke tests")
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 5)

    # Refuse early, with one line, if a side cannot run at all.
    if not (os.path.isfile(args.ch01) and os.access(args.ch01, os.X_OK)):
        fail(2, f"chapter 01 binary not found at {args.ch01} (build it, or pass --ch01 PATH)")
    if importlib.util.find_spec("torch") is None:
        fail(2, f"PyTorch cannot be imported by {sys.executable} (apt install python3-torch, "
                "and run this script with /usr/bin/python3)")

    # Same thread count for both children; OpenBLAS-openmp and Eigen follow OMP_NUM_THREADS.
    # Nothing is pinned: the OS places the processes as it would for a learner.
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    machine = machine_info()
    tmp = tempfile.TemporaryDirectory(prefix="ptt-bench-ch01-")  # removed when we exit
    metrics = os.path.join(tmp.name, "ch01.jsonl")
    results, torch_info = [], {}

    for hidden, batch, steps in CONFIGS:
        steps = max(1, steps // 10) if args.quick else steps
        common = ["--hidden", hidden, "--batch-size", str(batch), "--lr", "0.01", "--momentum", "0.9"]
        ch01_cmd = [args.ch01, *common, "--optimizer", "sgd", "--epochs", "1",
                    "--max-steps", str(steps), "--seed", "1", "--no-progress", "--metrics", metrics]
        if args.data_dir:
            ch01_cmd += ["--data-dir", args.data_dir]
        torch_cmd = [sys.executable, PEER, *common, "--steps", str(steps),
                     "--warmup", str(max(2, steps // 50)), "--threads", str(args.threads)]
        name = f"784-{hidden.replace(',', '-')}-10, batch {batch}"
        print(f"running {name}: {repeats} x (chapter 01, PyTorch), {steps} steps each ...",
              file=sys.stderr, flush=True)

        ch01, peer, phases = [], [], []
        for r in range(repeats):
            # Alternate the order (A B, B A, ...) so neither side always runs first.
            for side in (("ch01", "torch") if r % 2 == 0 else ("torch", "ch01")):
                if side == "ch01":
                    sps, phase_seconds = ch01_samples_per_s(ch01_cmd, metrics, env)
                    ch01.append(sps)
                    phases.append(phase_seconds)
                else:
                    torch_info = json.loads(run_child(torch_cmd, env).strip().splitlines()[-1])
                    peer.append(torch_info["samples_per_s"])
        a, b = spread(ch01), spread(peer)
        ratio = a["median"] / b["median"]
        results.append({"config": name, "hidden": hidden, "batch_size": batch, "steps": steps,
                        "ch01": a, "torch": b, "ratio": ratio, "target": TARGET,
                        # each phase's share of chapter 01's step time, median over the repeats
                        "ch01_phase_share": {k: statistics.median(p[k] / sum(p.values()) for p in phases)
                                             for k in phases[0]} if phases and phases[0] else {},
                        "met": ratio >= TARGET,
                        "commands": {"ch01": shlex.join(ch01_cmd), "torch": shlex.join(torch_cmd)}})

    # ---- report: machine, commands, then the table -------------------------------------
    machine.update(torch_version=torch_info.get("torch_version"), blas=torch_info.get("blas"),
                   blas_libs=torch_info.get("blas_libs"))
    print(f"Machine: {machine['cpu']}, {machine['nproc']} cores, load average "
          f"{machine['loadavg_at_start']:.2f} at start, {machine['date']}")
    print(f"PyTorch {machine['torch_version']} with {machine['blas']} "
          f"({', '.join(machine['blas_libs'] or [])}); peer data: {torch_info.get('data')}")
    print(f"Threads: {args.threads} (OMP_NUM_THREADS={args.threads}, nothing pinned); "
          f"{repeats} interleaved run(s) per side; SGD lr 0.01 momentum 0.9, float32")
    print("Commands:")
    for res in results:
        for side in ("ch01", "torch"):
            print(f"    OMP_NUM_THREADS={args.threads} {res['commands'][side]}")
    print()

    def cell(s):
        return f"{s['median']:,.0f} ({s['min']:,.0f}-{s['max']:,.0f})"

    print(f"| config | ch01 samples/s (median, min-max) | PyTorch samples/s (median, min-max) "
          f"| ratio ch01/PyTorch | target >= {TARGET}x |")
    print("|---|---:|---:|---:|---|")
    for res in results:
        print(f"| {res['config']} | {cell(res['ch01'])} | {cell(res['torch'])} "
              f"| {res['ratio']:.2f}x | {'met' if res['met'] else 'not met'} |")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "threads": args.threads, "repeats": repeats,
                       "quick": args.quick, "results": results}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
