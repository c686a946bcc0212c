#!/usr/bin/env python3
"""Chapter 03 benchmark: data parallelism across MPI ranks, in one run.

Every training run uses the same MLP, GLOBAL batch and optimizer (SGD, lr 0.01, momentum 0.9,
float32); with R ranks each rank gets --batch-size = global batch / R:

    784-1024-1024-10  at global batch 512   (the target's configuration)
    784-256-128-10    at global batch 128

Three Markdown tables:
  1. Throughput: ch01 serial (the reference), then ch03 as ranks x threads per rank, for
     every --allreduce algorithm that applies, but only shapes with ranks x threads <= cores:
     an oversubscribed core makes every collective wait on a descheduled peer, so those
     numbers would measure the scheduler, not the algorithm. Beside 2 ranks: PyTorch's
     DistributedDataParallel on 2 processes (gloo; scripts/torch_mlp_peer.py --ddp 2), same MLP and
     global batch.
  2. Bucketing/overlap: 2 ranks, wide MLP, MPI_Allreduce after backward vs MPI_Iallreduce per
     bucket during backward, at several bucket sizes.
  3. Allreduce bandwidth: ch03_allreduce_bench (mpiexec -n 2), MPI_Allreduce vs our ring by
     size, next to the alpha-beta prediction.

Each training variant runs --repeats times, interleaved (forward order, then backward order
on the next repeat) so that all variants share the machine's noise; we report the median and
the spread (min-max). Only ratios from one run on one machine mean anything.

Run it as:  python3 scripts/bench_ch03.py [--build build/release] [--repeats 3] [--json out.json]
--quick: 10x fewer steps, one repeat, allreduce sizes up to 4 MB: a smoke test.
Exit codes: 0 done, 2 missing binary / mpiexec / data, 1 a child failed otherwise.
"""
import argparse
import importlib.util
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

from bench_ch01 import machine_info, spread  # same folder
from bench_ch02 import cell, mlp_name

# (hidden widths, GLOBAL batch, timed steps). Steps stay inside one epoch (60000 samples) and
# make a one-core run take ~2-3 s; --quick divides them by 10.
CONFIGS = [("1024,1024", 512, 40), ("256,128", 128, 450)]
WIDE = "1024,1024"
SHAPES = [(1, 1), (1, 2), (2, 1), (2, 2)]  # (ranks, threads per rank), kept if they fit the cores
BUCKETS_KB = [64, 256, 1024, 4096]  # 256 is ch03's default --bucket-kb
PHASES = ["data", "forward", "backward", "reduce", "update"]
SPEEDUP_TARGET = 1.7  # 2 ranks (MPI_Allreduce) vs 1 rank, wide MLP: 1.7x
RING_TARGET = 0.8  # ring bandwidth >= 0.8x MPI_Allreduce's at every size >= 4 MB
CHILD_TIMEOUT_S = 600  # a hung collective must not hang the benchmark


def fail(code, message):
    print(f"bench_ch03: {message}", file=sys.stderr)
    sys.exit(code)


def run_child(cmd, env):
    """Runs one child (stdin closed, its own process group); on failure repeats its last
    stderr line and exits with 2 if it did, else 1. A child past the timeout is killed with
    its whole group (mpiexec and its ranks)."""
    with subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as child:
        try:
            out, err = child.communicate(timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            fail(1, f"{shlex.join(cmd)} did not finish in {CHILD_TIMEOUT_S} s (killed)")
    if child.returncode != 0:
        last = (err.strip().splitlines() or ["(no message)"])[-1]
        fail(2 if child.returncode == 2 else 1, f"{shlex.join(cmd)} failed: {last}")
    return out


def label(run):
    _, ranks, threads, kind, kb = run
    if kind == "ch01":
        return "ch01 serial"
    if kind == "torch-ddp":
        return f"PyTorch DDP, {ranks} processes (gloo)"
    return f"ch03 {ranks} rank{'s' if ranks > 1 else ''} x {threads} thread{'s' if threads > 1 else ''}, " \
           + (f"bucketed {kb} KB" if kind == "bucketed" else kind)


def plan(cores, torch_peer):
    """The runs of one repeat: (hidden, ranks, threads, kind, bucket_kb). With @p torch_peer,
    PyTorch's DistributedDataParallel on 2 processes (gloo) is the peer of 2 ranks x 1 thread."""
    runs = []
    for hidden, _, _ in CONFIGS:
        runs.append((hidden, 1, 1, "ch01", None))
        for ranks, threads in SHAPES:
            if ranks * threads > cores:
                continue
            # With one rank the allreduce is a no-op: one algorithm is enough. Bucketed overlaps
            # communication with a one-thread backward pass only (ch03 refuses --threads > 1).
            kinds = ["mpi"] if ranks == 1 else ["mpi", "ring"] + (["bucketed"] if threads == 1 else [])
            runs += [(hidden, ranks, threads, k, 256 if k == "bucketed" else None) for k in kinds]
        if torch_peer and cores >= 2:
            runs.append((hidden, 2, 1, "torch-ddp", None))
        if hidden == WIDE and cores >= 2:
            runs += [(WIDE, 2, 1, "bucketed", kb) for kb in BUCKETS_KB if kb != 256]
    return runs


def command(args, run, metrics):
    hidden, ranks, threads, kind, kb = run
    batch = args.batch[hidden] if kind == "ch01" else args.batch[hidden] // ranks  # per rank
    train = ["--hidden", hidden, "--batch-size", str(batch), "--lr", "0.01", "--momentum", "0.9",
             "--optimizer", "sgd", "--epochs", "1", "--max-steps", str(args.steps[hidden]), "--seed", "1",
             "--no-progress", "--metrics", metrics] + (["--data-dir", args.data_dir] if args.data_dir else [])
    if kind == "ch01":
        return [args.ch01, *train]
    if kind == "torch-ddp":  # the same MLP, SGD and GLOBAL batch, split over `ranks` processes
        return [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_mlp_peer.py"),
                "--hidden", hidden, "--batch-size", str(args.batch[hidden]), "--lr", "0.01", "--momentum", "0.9",
                "--steps", str(args.steps[hidden]), "--warmup", "3", "--ddp", str(ranks)]
    cmd = [args.mpiexec, "-n", str(ranks), args.ch03, *train, "--threads", str(threads), "--allreduce", kind]
    return cmd + (["--bucket-kb", str(kb)] if kind == "bucketed" else [])


def measure(cmd, threads, metrics, env):
    """One training run: samples/s from the epoch record (global samples per second of training
    steps), ms per step of each phase from the final record (sums over the steps). The PyTorch
    peer prints one JSON line instead, with no phases."""
    if os.path.basename(cmd[1]) == "torch_mlp_peer.py":
        out = run_child(cmd, dict(env, OMP_NUM_THREADS=str(threads)))
        return {"samples_per_s": json.loads(out.strip().splitlines()[-1])["samples_per_s"],
                "ms_per_step": {p: None for p in PHASES}}
    if os.path.exists(metrics):
        os.remove(metrics)
    run_child(cmd, dict(env, OMP_NUM_THREADS=str(threads)))
    with open(metrics) as f:
        records = [json.loads(line) for line in f if line.strip()]
    epoch = next(r for r in records if "epoch" in r and not r.get("final"))
    final = next(r for r in records if r.get("final"))
    return {"samples_per_s": epoch["samples_per_s"],
            "ms_per_step": {p: 1e3 * final["phase_seconds"].get(p, 0.0) / final["steps"] for p in PHASES}}


def bucket_count(hidden, bucket_kb):
    """How many buckets ch03 makes (solutions/ch03/distributed.cpp): from the top layer down,
    a bucket closes once it holds bucket_kb, so buckets never split a layer."""
    sizes = [784] + [int(h) for h in hidden.split(",")] + [10]
    count, held = 0, 0
    for layer in reversed(range(len(sizes) - 1)):
        held += 4 * (sizes[layer] + 1) * sizes[layer + 1]
        if held >= bucket_kb * 1024 or layer == 0:
            count, held = count + 1, 0
    return count


def main():
    parser = argparse.ArgumentParser(description="Chapter 03 (MPI data parallel): ranks x threads, allreduce.")
    parser.add_argument("--build", default="build/release", help="build directory holding chapters/...")
    parser.add_argument("--repeats", type=int, default=None, help="runs per variant (default 3; 1 with --quick)")
    parser.add_argument("--json", metavar="FILE", help="write every sample, the tables and machine info")
    parser.add_argument("--data-dir", help="passed to ch01/ch03 (else $PTT_DATA_DIR or their default)")
    parser.add_argument("--quick", action="store_true", help="10x fewer steps, one repeat, sizes to 4 MB")
    args = parser.parse_args()
    repeats = max(1, args.repeats or (1 if args.quick else 3))
    args.batch = {h: b for h, b, _ in CONFIGS}
    args.steps = {h: max(1, s // 10) if args.quick else s for h, _, s in CONFIGS}
    chapters = os.path.join(args.build, "chapters")
    args.ch01 = os.path.join(chapters, "01_serial", "ch01_serial")
    args.ch03 = os.path.join(chapters, "03_mpi_data_parallel", "ch03_mpi")
    bench = os.path.join(chapters, "03_mpi_data_parallel", "ch03_allreduce_bench")

    # Refuse early, with one line, if something cannot run at all.
    args.mpiexec = shutil.which("mpiexec")
    if args.mpiexec is None:
        fail(2, "mpiexec not found on PATH (apt install openmpi-bin)")
    for path in (args.ch01, args.ch03, bench):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            fail(2, f"binary not found at {path} (build it, or pass --build DIR)")

    # OpenMPI refuses root and more ranks than cores unless told (see ./tutorial). Binding off:
    # OpenMPI binds each of <= 2 ranks to ONE core, which would put 1 rank x 2 threads on one core.
    env = dict(os.environ, OMPI_MCA_hwloc_base_binding_policy="none")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    if os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    machine = machine_info()
    cores = machine["nproc"]
    tmp = tempfile.TemporaryDirectory(prefix="ptt-bench-ch03-")  # removed when we exit
    metrics = os.path.join(tmp.name, "run.jsonl")

    torch_peer = importlib.util.find_spec("torch") is not None
    if not torch_peer:
        print("note: PyTorch cannot be imported (apt install python3-torch): no DDP row", file=sys.stderr)
    runs = plan(cores, torch_peer)
    commands = {run: command(args, run, metrics) for run in runs}
    samples = {run: [] for run in runs}
    print(f"running {repeats} x {len(runs)} training runs on {cores} cores ...", file=sys.stderr, flush=True)
    for r in range(repeats):
        for i, run in enumerate(runs if r % 2 == 0 else runs[::-1]):  # interleaved, order alternates
            print(f"  repeat {r + 1}/{repeats}, run {i + 1}/{len(runs)}: {mlp_name(run[0])} {label(run)}",
                  file=sys.stderr, flush=True)
            samples[run].append(measure(commands[run], run[2], metrics, env))

    # The allreduce bandwidth table: one run of the C++ benchmark (it takes its own medians).
    bench_json = os.path.join(tmp.name, "allreduce.json")
    bench_cmd = [args.mpiexec, "-n", "2", bench, "--json", bench_json,
                 "--max-mb", "4" if args.quick else "64", "--repeats", "3" if args.quick else "9"]
    print("running the allreduce benchmark ...", file=sys.stderr, flush=True)
    bench_table = run_child(bench_cmd, dict(env, OMP_NUM_THREADS="1"))
    with open(bench_json) as f:
        allreduce = json.load(f)
    for size in allreduce["sizes"]:  # same bytes moved, so bandwidth ratio = time ratio
        size["ring_vs_mpi_bandwidth"] = size["mpi_s"] / size["ring_s"]

    def sps(run):
        return spread([m["samples_per_s"] for m in samples[run]])

    def ms(run):  # median of each phase over the repeats, ms per step (None: the PyTorch peer)
        return {p: None if samples[run][0]["ms_per_step"][p] is None else
                statistics.median(m["ms_per_step"][p] for m in samples[run]) for p in PHASES}

    # ---- the tables, as rows of numbers (printed below, and written with --json) --------------
    throughput, bucketing, targets = [], [], []
    for hidden, batch, _ in CONFIGS:
        one, ch01 = sps((hidden, 1, 1, "mpi", None))["median"], sps((hidden, 1, 1, "ch01", None))["median"]
        for run in (r for r in runs if r[0] == hidden and (r[3] != "bucketed" or r[4] == 256)):
            s = sps(run)
            throughput.append({"mlp": hidden, "global_batch": batch, "variant": label(run), "ranks": run[1],
                               "threads": run[2], "allreduce": run[3], "samples_per_s": s,
                               "vs_1x1": s["median"] / one, "vs_ch01": s["median"] / ch01,
                               "reduce_ms": ms(run)["reduce"]})
    if cores >= 2:
        wide_one = sps((WIDE, 1, 1, "mpi", None))["median"]
        for run in [(WIDE, 2, 1, "mpi", None)] + [(WIDE, 2, 1, "bucketed", kb) for kb in BUCKETS_KB]:
            phase = ms(run)
            bucketing.append({"allreduce": run[3], "bucket_kb": run[4], "samples_per_s": sps(run),
                              "buckets": bucket_count(WIDE, run[4]) if run[4] else 1,
                              "backward_ms": phase["backward"], "reduce_ms": phase["reduce"]})
        ratio = sps((WIDE, 2, 1, "mpi", None))["median"] / wide_one
        targets.append((f"2 ranks (MPI_Allreduce) >= {SPEEDUP_TARGET:.1f}x 1 rank on "
                        f"{mlp_name(WIDE)}, global batch {args.batch[WIDE]}", ratio, ratio >= SPEEDUP_TARGET))
    big = [s for s in allreduce["sizes"] if s["bytes"] >= 4 << 20]
    if big:
        worst = min(s["ring_vs_mpi_bandwidth"] for s in big)
        targets.append((f"ring >= {RING_TARGET}x MPI_Allreduce bandwidth at every size >= 4 MB "
                        "(minimum ratio)", worst, worst >= RING_TARGET))

    # ---- report: machine, commands, then the tables ------------------------------------------
    mpi_version = run_child([args.mpiexec, "--version"], env).strip().splitlines()[0]
    machine.update(mpi=mpi_version)
    print(f"Machine: {machine['cpu']}, {cores} cores, load average {machine['loadavg_at_start']:.2f} "
          f"at start, {machine['date']}; {mpi_version}")
    if machine["loadavg_at_start"] > 0.5:
        print(f"Note: the machine was busy at start (load {machine['loadavg_at_start']:.2f}): a rank that "
              "waits on a descheduled peer makes multi-rank numbers far too low.")
    skipped = [f"{r} x {t}" for r, t in SHAPES if r * t > cores]
    print(f"{repeats} interleaved run(s) per variant; SGD lr 0.01 momentum 0.9, float32; steps per run: "
          + ", ".join(f"{mlp_name(h)}: {args.steps[h]}" for h, _, _ in CONFIGS)
          + f". Ranks unbound (OMPI_MCA_hwloc_base_binding_policy=none), OMP_NUM_THREADS = threads per rank"
          + (f"; not timed, as they would oversubscribe {cores} cores: ranks x threads = {', '.join(skipped)}"
             if skipped else "") + ".")
    print("Commands:")
    for run in runs:
        print(f"    OMP_NUM_THREADS={run[2]} {shlex.join(commands[run])}")
    print(f"    OMP_NUM_THREADS=1 {shlex.join(bench_cmd)}")

    for hidden, batch, _ in CONFIGS:
        print(f"\n### Throughput: {mlp_name(hidden)}, global batch {batch}\n")
        print("| variant | samples/s median (min-max) | speedup vs 1 rank x 1 thread | vs ch01 "
              "| reduce ms/step |")
        print("|---|---:|---:|---:|---:|")
        for row in (r for r in throughput if r["mlp"] == hidden):
            print(f"| {row['variant']} | {cell(row['samples_per_s'])} | {row['vs_1x1']:.2f}x "
                  f"| {row['vs_ch01']:.2f}x | {'-' if row['reduce_ms'] is None else format(row['reduce_ms'], '.3f')} |")
    print("\nreduce = the allreduce across ranks (after the thread reduction inside a rank, if any), "
          "including the time a rank waits for the slower one; bucketed: only the wait after backward.")

    if bucketing:
        print(f"\n### Bucketing/overlap: 2 ranks x 1 thread, {mlp_name(WIDE)}, global batch {args.batch[WIDE]}\n")
        print("| allreduce | bucket KB | buckets | samples/s median (min-max) | backward ms/step "
              "| reduce ms/step | backward + reduce ms/step |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for row in bucketing:
            name = "MPI_Allreduce after backward" if row["allreduce"] == "mpi" else "MPI_Iallreduce per bucket"
            print(f"| {name} | {row['bucket_kb'] or '-'} | {row['buckets']} | {cell(row['samples_per_s'])} "
                  f"| {row['backward_ms']:.3f} | {row['reduce_ms']:.3f} "
                  f"| {row['backward_ms'] + row['reduce_ms']:.3f} |")
        print("\nBuckets hold whole layers, so sizes that give the same bucket count are the same schedule. "
              "Overlap shows as backward + reduce below the MPI_Allreduce row (bucketed posts the "
              "allreduce inside backward, so part of it is timed as backward: compare the sums).")

    print(f"\n### Allreduce: MPI_Allreduce vs ring, {allreduce['ranks']} ranks, measured vs alpha-beta\n")
    print(bench_table.strip())

    print("\nTargets (stated for 2 cores):")
    for text, ratio, met in targets:
        print(f"- {text}: {ratio:.2f}x, {'met' if met else 'not met'}")
    if cores < 2:
        print("- the speedup target is not checked: it needs 2 cores")
    if not big:
        print("- the ring target is not checked: no size >= 4 MB was measured")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "repeats": repeats, "quick": args.quick, "steps": args.steps,
                       "global_batch": args.batch, "runs": [
                           {"mlp": h, "ranks": rk, "threads": t, "allreduce": k, "bucket_kb": kb,
                            "env": {"OMP_NUM_THREADS": str(t)}, "command": shlex.join(commands[(h, rk, t, k, kb)]),
                            "samples": samples[(h, rk, t, k, kb)]} for h, rk, t, k, kb in runs],
                       "throughput": throughput, "bucketing": bucketing,
                       "allreduce": dict(allreduce, command=shlex.join(bench_cmd)),
                       "targets": [{"target": text, "ratio": ratio, "met": met} for text, ratio, met in targets]},
                      f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
