#!/usr/bin/env python3
"""Chapter 08 validation: the cost model's predicted step time beside the measured one, for every
configuration of chapters 01-06 that fits this machine.

1. Calibrate: ch08_calibrate --out RUN_DIR/machine-R.json (GEMM rate at 784-256-128-10, batch 128;
   memory bandwidth; thread hand-off; the link inside the node fitted to MPI_Allreduce times that
   ch03_allreduce_bench measures on 2 ranks just before, and the crowded node's oversubscribed_link
   to those it measures on 4 ranks when 4 workers outnumber the cores, the TCP link between nodes
   from chapter 03's committed measurements) before each repeat R of
   the runs, and predict with the median of every rate (a shared machine's speed drifts over
   minutes), unless --machine FILE. Every run below shares this one node, so the model is told
   so: workers_per_node is raised to the most workers of any configuration (4); cores_per_node
   stays the machine's (2 here), so the model's contention term (busy workers / cores) applies.
2. Run each configuration (a chapter's command line) twice per repeat: with W warm-up steps and
   with W + S steps. The metrics' phase_seconds add up to the training steps' time (without start-up,
   data loading and evaluation); (total(W + S) - total(W)) / S is one repeat's time per step with
   the warm-up left out (the metrics hold totals, not per-step times). Repeats are interleaved
   (forward order, then backward) so every configuration shares the machine's noise; the median and
   the min-max spread are reported. Ranks that outnumber the cores are pinned where the model
   places them (ch08_plan's "cores": a rankfile, with OMPI_MCA_mpi_yield_when_idle=1).
3. Predict each one with ch08_plan --machine --json (every layout of W workers with every term)
   and take the layout equal to the chapter's: ch01, ch02 --threads 1 and ch03 on one rank are
   dp=1; threads (ch02) and ranks (ch03, ch06) are a dp worker each; ch05's threads and ch06's
   ranks are its tp or pp workers. Chapters 02 and 05 are predicted with --threads: their workers
   meet through memory (the calibrated thread_link), not through MPI messages.
4. Print one Markdown table, predicted against measured with the error, and the summary against
   the targets (median |error| <= 15 %, worst <= 35 %, over all and over the not oversubscribed;
   PASS or MISS: a benchmark, no assert); then chapter 06's memory per worker (its own buffers,
   from its metrics' accounts) beside the model's, field by field.

Run it as:  python3 scripts/bench_ch08.py [--build build/release] [--repeats 3] [--json FILE]
            [--record] [--machine machine.json] [--quick]
--quick: a tenth of the steps and one repeat (a smoke test). --record writes the committed
chapters/08_choose/validation.json (scripts/ch08_tables.py puts its table into the README).
Exit codes: 0 done, 2 bad input or a missing binary, data or machine file, 1 a child failed.
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile

import bench_ch03  # same folder: the child runner with a timeout that kills mpiexec's group
from bench_ch01 import machine_info

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RECORD = os.path.join(ROOT, "chapters", "08_choose", "validation.json")
TARGET_MEDIAN, TARGET_WORST = 15.0, 35.0  # |error| in %, the targets
CALIBRATION = ["--hidden", "256,128", "--batch", "128"]  # the shape and batch the GEMM rate is measured at
LINKS = "chapters/03_mpi_data_parallel/results_two_hosts.jsonl"  # chapter 03's all-reduces, TCP included
LINK_BENCH = ["--max-mb", "16", "--repeats", "9"]  # this machine's shared-memory all-reduce, 4 KB to 16 MB
# (hidden, global batch, timed steps S, warm-up steps W): a full run's timed part is ~0.5-1 s on one
# core of the reference machine. The third shape and batch are ones the calibration never saw.
SHAPES = [("256,128", 128, 250, 5), ("1024,1024", 256, 30, 3), ("512,256,128", 192, 80, 4)]
UNSEEN = "512,256,128"
PROGRAMS = {"ch01": "01_serial/ch01_serial", "ch02": "02_openmp_data_parallel/ch02_openmp",
            "ch03": "03_mpi_data_parallel/ch03_mpi", "ch05": "05_model_parallel/ch05_model_parallel",
            "ch06": "06_hybrid/ch06_hybrid", "plan": "08_choose/ch08_plan", "calibrate": "08_choose/ch08_calibrate",
            "allreduce": "03_mpi_data_parallel/ch03_allreduce_bench"}


def variant(name, program, ranks, flags, **layout):
    """One configuration: a chapter's program on @p ranks MPI ranks (0: no mpiexec) with @p flags,
    and the ch08 layout that is the same thing (keys dp, pp, tp, m, schedule, zero)."""
    full = {"dp": 1, "pp": 1, "tp": 1, "m": 1, "schedule": "gpipe", "zero": 0, **layout}
    return {"name": name, "program": program, "ranks": ranks, "flags": flags, "layout": full,
            "workers": full["dp"] * full["pp"] * full["tp"]}


PP4 = ["--microbatches", "4"]
VARIANTS = [
    variant("ch01 serial", "ch01", 0, []),
    variant("ch02 1 thread", "ch02", 0, ["--threads", "1"]),
    variant("ch02 2 threads", "ch02", 0, ["--threads", "2"], dp=2),
    variant("ch03 1 rank", "ch03", 1, []),
    variant("ch03 2 ranks, bucketed", "ch03", 2, ["--allreduce", "bucketed"], dp=2),
    variant("ch03 4 ranks, bucketed", "ch03", 4, ["--allreduce", "bucketed"], dp=4),
    variant("ch05 tp 2", "ch05", 0, ["--tp", "2"], tp=2),
    variant("ch05 pp 2, m 4, GPipe", "ch05", 0, ["--pp", "2", *PP4, "--schedule", "gpipe"], pp=2, m=4),
    variant("ch05 pp 2, m 4, 1F1B", "ch05", 0, ["--pp", "2", *PP4, "--schedule", "1f1b"], pp=2, m=4,
            schedule="1f1b"),
    variant("ch06 dp 2", "ch06", 2, ["--dp", "2"], dp=2),
    variant("ch06 dp 2, ZeRO-1", "ch06", 2, ["--dp", "2", "--zero", "1"], dp=2, zero=1),
    variant("ch06 tp 2", "ch06", 2, ["--tp", "2"], tp=2),
    variant("ch06 pp 2, m 4, 1F1B", "ch06", 2, ["--pp", "2", *PP4, "--schedule", "1f1b"], pp=2, m=4,
            schedule="1f1b"),
    variant("ch06 dp 4", "ch06", 4, ["--dp", "4"], dp=4),
    variant("ch06 dp 4, ZeRO-1", "ch06", 4, ["--dp", "4", "--zero", "1"], dp=4, zero=1),
    variant("ch06 dp 2 x tp 2", "ch06", 4, ["--dp", "2", "--tp", "2"], dp=2, tp=2),
    variant("ch06 dp 2 x pp 2, m 4", "ch06", 4, ["--dp", "2", "--pp", "2", *PP4, "--schedule", "1f1b"],
            dp=2, pp=2, m=4, schedule="1f1b"),
    variant("ch06 pp 2 x tp 2, m 4", "ch06", 4, ["--pp", "2", "--tp", "2", *PP4, "--schedule", "1f1b"],
            pp=2, tp=2, m=4, schedule="1f1b"),
]
# The unseen shape: one of each kind of worker (threads, ranks, tp, pp, a 4-rank grid).
UNSEEN_VARIANTS = ["ch01 serial", "ch02 2 threads", "ch03 2 ranks, bucketed", "ch05 tp 2",
                   "ch06 pp 2, m 4, 1F1B", "ch06 dp 2 x tp 2"]
MEMORY_KINDS = ("params", "grads", "optimizer", "activations")
THREAD_PROGRAMS = ("ch02", "ch05")  # their workers are threads: ch08_plan --threads


def fail(code, message):
    print(f"bench_ch08: {message}", file=sys.stderr)
    sys.exit(code)


bench_ch03.fail = fail


def configurations():
    out = []
    for hidden, batch, steps, warmup in SHAPES:
        for v in VARIANTS:
            if hidden == UNSEEN and v["name"] not in UNSEEN_VARIANTS:
                continue
            out.append({**v, "hidden": hidden, "batch": batch, "steps": steps, "warmup": warmup,
                        "unseen": hidden == UNSEEN})
    return out


def layout_text(layout):
    text = f"dp={layout['dp']},pp={layout['pp']},tp={layout['tp']},m={layout['m']}"
    if layout["m"] > 1:
        text += f",schedule={layout['schedule']}"
    return text + (f",zero={layout['zero']}" if layout["zero"] else "")


def train_flags(config, steps, metrics, data_dir):
    # ch03 takes the batch per rank; every other chapter the global batch (ch06 splits it itself).
    batch = config["batch"] // config["ranks"] if config["program"] == "ch03" else config["batch"]
    flags = ["--hidden", config["hidden"], "--batch-size", str(batch), "--optimizer", "sgd", "--lr", "0.01",
             "--momentum", "0.9", "--epochs", "1", "--max-steps", str(steps), "--seed", "1", "--no-progress"]
    flags += config["flags"]
    if metrics:
        flags += ["--metrics", metrics]
    if data_dir:
        flags += ["--data-dir", data_dir]
    return flags


def rankfile_name(cores):
    """cores-0101: the rankfile that puts rank r on core cores[r] (write_rankfile)."""
    return "cores-" + "".join(str(c) for c in cores)


def write_rankfile(cores, folder):
    """OpenMPI's rankfile for one node: 'rank R=localhost slot=C' per rank."""
    path = os.path.join(folder, rankfile_name(cores))
    with open(path, "w") as f:
        f.writelines(f"rank {r}=localhost slot={c}\n" for r, c in enumerate(cores))
    return path


def chapter_command(config, steps=None, metrics=None, data_dir=None, exe=None, mpiexec="mpiexec", work=None):
    """The command line; without @p exe, the one shown in the table (program names, the chapter's
    own flags and --batch-size, the common flags left to the README). Ranks that outnumber the
    cores are pinned where the model places them (config["cores"], a rankfile in @p work)."""
    binary = exe[config["program"]] if exe else os.path.basename(PROGRAMS[config["program"]])
    if exe is None:
        batch = config["batch"] // config["ranks"] if config["program"] == "ch03" else config["batch"]
        cmd = [binary, "--hidden", config["hidden"], "--batch-size", str(batch), *config["flags"]]
    else:
        cmd = [binary, *train_flags(config, steps, metrics, data_dir)]
    if config["ranks"] > 0:
        pin = []
        if config.get("cores"):
            rankfile = write_rankfile(config["cores"], work) if exe else rankfile_name(config["cores"])
            pin = ["--rankfile", rankfile]
        cmd = [mpiexec if exe else "mpiexec", "-n", str(config["ranks"]), *pin, *cmd]
    return cmd


def read_final(path):
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    final = next((r for r in records if r.get("final")), None)
    if final is None or "phase_seconds" not in final:
        fail(1, f"{path}: no final record with phase_seconds")
    return final


def run_training(config, steps, metrics, args, exe, env):
    if os.path.exists(metrics):
        os.remove(metrics)
    cmd = chapter_command(config, steps, metrics, args.data_dir, exe, args.mpiexec, os.path.dirname(metrics))
    # ch02's threads are its workers; every other process runs one thread (Eigen's included).
    threads = config["workers"] if config["program"] == "ch02" else 1
    env = dict(env, OMP_NUM_THREADS=str(threads))
    if config.get("cores"):
        # A rankfile gives every rank a slot, so OpenMPI no longer sees the node as oversubscribed
        # and would spin without yielding while a rank waits: with 4 ranks on 2 cores, a step of
        # chapter 06 then takes tens of milliseconds. Yield, as it does unpinned on a crowded node.
        env["OMPI_MCA_mpi_yield_when_idle"] = "1"
    bench_ch03.run_child(cmd, env)
    final = read_final(metrics)
    if final["steps"] != steps:
        fail(1, f"{shlex.join(cmd)}: ran {final['steps']} steps, not {steps}")
    return sum(final["phase_seconds"].values()), final


def predictions(configs, machine_path, plan_exe, work):
    """ch08_plan --json for each (hidden, batch, workers, threads or ranks); each configuration's own layout."""
    plans = {}
    for c in configs:
        threads = c["program"] in THREAD_PROGRAMS
        key = (c["hidden"], c["batch"], c["workers"], threads)
        if key not in plans:
            out = os.path.join(work, f"plan-{len(plans)}.json")
            cmd = [plan_exe, "--machine", machine_path, "--hidden", c["hidden"], "--batch", str(c["batch"]),
                   "--workers", str(c["workers"]), "--optimizer", "sgd", "--top", "1", "--json", out]
            if threads:  # the workers are threads of one process: they meet through memory, not MPI
                cmd.append("--threads")
            bench_ch03.run_child(cmd, os.environ.copy())
            with open(out) as f:
                plans[key] = json.load(f)
        want = c["layout"]
        match = [e for e in plans[key]
                 if all(e[k] == want[k] for k in ("dp", "pp", "tp", "m", "zero"))
                 and (want["m"] == 1 or e["schedule"] == want["schedule"])]
        if not match:
            fail(1, f"ch08_plan has no layout {layout_text(want)} for 784-{c['hidden']}-10 at batch {c['batch']}")
        c["prediction"] = match[0]


def place_ranks(configs, machine, plan_exe, work):
    """config["cores"]: the core of each rank when the ranks outnumber the cores (ch08_plan's
    "cores", the placement its contention term assumes); none for threads or a rank per core."""
    path, _, _ = machine_file(json.loads(json.dumps(machine)), work, max(c["workers"] for c in configs))
    predictions(configs, path, plan_exe, work)
    for c in configs:
        if c["ranks"] > 0 and c["prediction"].get("cores"):
            c["cores"] = c["prediction"]["cores"]


def read_machine_arg(args):
    """--machine FILE, checked for the two fields the harness changes; None without it."""
    if not args.machine:
        return None
    try:
        with open(args.machine) as f:
            machine = json.load(f)
        machine["workers_per_node"], machine["cores_per_node"]  # noqa: B018 (the keys must exist)
    except (OSError, ValueError, KeyError) as e:
        fail(2, f"--machine: {args.machine}: {e!r}")
    return machine


def measure_links(args, exe, work, env, index):
    """The links file for ch08_calibrate --links: this machine's MPI_Allreduce over shared memory,
    measured now (ch03_allreduce_bench, every size from 4 KB to 16 MB) on 2 ranks and, when some
    configuration has more workers than the cores, on that many ranks too (the crowded node's
    oversubscribed_link), and chapter 03's committed TCP link between two network namespaces
    (building those needs its own script)."""
    most = max(c["workers"] for c in configurations())
    lines = [{"kind": "machine", **machine_info()}]
    for ranks in [2, *([most] if most > (os.cpu_count() or 1) else [])]:
        out = os.path.join(work, f"allreduce-{index}-{ranks}.json")
        bench_ch03.run_child([args.mpiexec, "-n", str(ranks), exe["allreduce"], *LINK_BENCH, "--json", out], env)
        with open(out) as f:
            shm = json.load(f)
        shown = shlex.join(["mpiexec", "-n", str(ranks), "ch03_allreduce_bench", *LINK_BENCH, "--json", "FILE"])
        lines.append({"kind": "allreduce", "link": "shared memory", "command": shown, **shm})
    committed = os.path.join(ROOT, LINKS)
    if os.path.isfile(committed):
        with open(committed) as f:
            records = [json.loads(line) for line in f if line.strip()]
        lines += [r for r in records if r.get("kind") == "machine"][:1]
        lines += [r for r in records if r.get("kind") == "allreduce" and r.get("link") == "veth"]
    path = os.path.join(work, f"links-{index}.jsonl")
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in lines)
    return path


def calibrate(args, exe, work, env, index):
    """One run of ch08_calibrate; its machine and its command line as the README shows it."""
    out = os.path.join(work, f"machine-{index}.json")
    cmd = [exe["calibrate"], "--out", out, *CALIBRATION, "--repeats", "3" if args.quick else "7",
           "--links", measure_links(args, exe, work, env, index)]
    print(f"calibrating: {shlex.join(cmd)}", file=sys.stderr, flush=True)
    print(bench_ch03.run_child(cmd, env).strip(), file=sys.stderr)
    with open(out) as f:
        machine = json.load(f)
    for key, text in machine.get("sources", {}).items():  # the run's scratch folder means nothing later
        machine["sources"][key] = text.replace(cmd[-1], "links.jsonl")
    shown = ["ch08_calibrate", "--out", "machine.json", *cmd[3:-1], "links.jsonl"]
    return machine, shlex.join(shown)


def median_machine(machines):
    """Every measured rate as the median over the calibrations (one per repeat, taken between the
    runs, so the rates see the same moods of a shared machine as the runs do)."""
    out = json.loads(json.dumps(machines[0]))
    for key in ("flops_fp32", "flops_mixed", "memory_bandwidth"):
        out[key] = statistics.median(m[key] for m in machines)
    for link in ("intra_node", "thread_link", "oversubscribed_link"):
        if all(link in m for m in machines):
            for key in ("alpha_s", "beta_s_per_byte"):
                out[link][key] = statistics.median(m[link][key] for m in machines)
    for i, row in enumerate(out.get("gemm_fp32", [])):
        for key in row:
            if key != "rows":
                row[key] = statistics.median(m["gemm_fp32"][i][key] for m in machines)
    for key in ("gemm_fp32", "flops_fp32", "memory_bandwidth", "intra_node", "thread_link", "oversubscribed_link"):
        if key in out.get("sources", {}):
            out["sources"][key] += f"; the median of {len(machines)} calibrations, one before each repeat of the runs"
    return out


def machine_file(machine, work, max_workers):
    """The machine the model predicts with (calibrated, or --machine), with every worker on this
    one node."""
    as_calibrated = dict(machine)
    machine["workers_per_node"] = max(int(machine["workers_per_node"]), max_workers)
    machine.setdefault("sources", {})["workers_per_node"] = (
        f"bench_ch08.py: every run shares this one node (the most workers of a configuration: {max_workers})")
    path = os.path.join(work, "machine-one-node.json")
    with open(path, "w") as f:
        json.dump(machine, f, indent=1)
    return path, machine, as_calibrated


def error_summary(rows):
    errors = [abs(r["error_pct"]) for r in rows]
    if not errors:
        return None
    median, worst = statistics.median(errors), max(errors)
    return {"count": len(errors), "median_abs_error_pct": median, "worst_abs_error_pct": worst,
            "median_target_pct": TARGET_MEDIAN, "worst_target_pct": TARGET_WORST,
            "median_met": median <= TARGET_MEDIAN, "worst_met": worst <= TARGET_WORST}


def memory_check(config, final, prediction):
    """Chapter 06's own buffers (the rank with the most bytes) beside the model's worst stage."""
    accounts = final.get("accounts")
    if not accounts:
        fail(1, f"{config['name']}: chapter 06's final record has no accounts")
    rank = max(accounts, key=lambda a: (sum(a["measured"][k] for k in MEMORY_KINDS), -a["rank"]))
    fields = {}
    for k in MEMORY_KINDS:
        measured, predicted = rank["measured"][k], prediction[f"memory_{k}_bytes"]
        fields[k] = {"measured": measured, "predicted": predicted, "exact": abs(measured - predicted) < 0.5}
    # ZeRO-1's buffer for the gradient shard (chapter 06's "comm" account, the model's buffers).
    measured, predicted = rank["measured"].get("comm", 0), prediction["memory_buffers_bytes"]
    fields["comm"] = {"measured": measured, "predicted": predicted, "exact": abs(measured - predicted) < 0.5}
    return {"config": config["name"], "hidden": config["hidden"], "batch": config["batch"],
            "layout": layout_text(config["layout"]), "rank": rank["rank"],
            "coords": [rank["dp"], rank["pp"], rank["tp"]], "fields": fields}


def print_report(result):
    m = result["machine"]
    print(f"\nmachine: {m['cpu']}, {m['nproc']} cores; load average at start {m['loadavg_at_start']:.2f}; "
          f"{result['repeats']} interleaved repeat(s){', --quick' if result['quick'] else ''}")
    print(f"model machine: GEMM {result['model_machine']['flops_fp32'] / 1e9:.2f} GFLOP/s, "
          f"{result['model_machine']['workers_per_node']} workers on {result['model_machine']['cores_per_node']} "
          f"cores; calibration: {result['calibration'] or '--machine ' + str(result['machine_file'])}")
    print("\n| config | chapter command | layout | predicted ms | measured ms, median (min-max) | error | "
          "oversubscribed |")
    print("|---|---|---|---:|---:|---:|:---:|")
    for r in result["rows"]:
        print(f"| {r['shape']}{' (unseen)' if r['unseen'] else ''} {r['config']} | `{r['command']}` | "
              f"{r['layout']} | {r['predicted_ms']:.3f} | {r['measured_ms']:.3f} ({r['measured_min_ms']:.3f}-"
              f"{r['measured_max_ms']:.3f}) | {r['error_pct']:+.0f} % | {'yes' if r['oversubscribed'] else 'no'} |")
    print()
    for key, label in (("all", "all"), ("not_oversubscribed", "not oversubscribed"),
                       ("oversubscribed", "oversubscribed")):
        s = result["summary"][key]
        if s is None:
            continue
        print(f"{label} ({s['count']}): median |error| {s['median_abs_error_pct']:.1f} % "
              f"(target <= {TARGET_MEDIAN:.0f} %: {'PASS' if s['median_met'] else 'MISS'}), worst "
              f"{s['worst_abs_error_pct']:.1f} % (target <= {TARGET_WORST:.0f} %: "
              f"{'PASS' if s['worst_met'] else 'MISS'})")
    print("\nmemory per worker, chapter 06's buffers (the rank with the most) / the model's worst stage, bytes:")
    for mem in result["memory"]:
        cells = []
        for k, f in mem["fields"].items():
            cells.append(f"{k} {f['measured']:.0f}/{f['predicted']:.0f} {'exact' if f['exact'] else 'NOT exact'}")
        print(f"  784-{mem['hidden'].replace(',', '-')}-10 {mem['config']} (rank {mem['rank']}): " + ", ".join(cells))


def main():
    parser = argparse.ArgumentParser(description="Chapter 08: the cost model's predictions against measured runs.")
    parser.add_argument("--build", default="build/release", help="the CMake build folder")
    parser.add_argument("--repeats", type=int, default=None, help="runs per configuration (default 3; 1 with --quick)")
    parser.add_argument("--machine", metavar="FILE", help="a machine.json to predict with (default: calibrate now)")
    parser.add_argument("--json", metavar="FILE", help="write every sample, prediction and summary")
    parser.add_argument("--record", action="store_true", help=f"write {os.path.relpath(RECORD, ROOT)}")
    parser.add_argument("--data-dir", help="passed to the trainers")
    parser.add_argument("--only", metavar="TEXT", help="only the configurations whose name contains TEXT")
    parser.add_argument("--quick", action="store_true", help="a tenth of the steps, one repeat: a smoke test")
    args = parser.parse_args()
    if args.repeats is not None and args.repeats < 1:
        fail(2, f"--repeats: must be at least 1 (got {args.repeats})")
    repeats = args.repeats or (1 if args.quick else 3)
    exe = {k: os.path.join(args.build, "chapters", p) for k, p in PROGRAMS.items()}
    for name, path in exe.items():
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            fail(2, f"{name}: binary not found at {path} (build it, or pass --build DIR)")
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        fail(2, "mpiexec not found on PATH (apt install openmpi-bin)")
    args.mpiexec = mpiexec
    data_dir = args.data_dir or os.environ.get("PTT_DATA_DIR") or "/usr/share/datasets/fashion-mnist"
    if not os.path.isdir(data_dir):
        fail(2, f"data set folder not found: {data_dir} (pass --data-dir or set PTT_DATA_DIR)")
    configs = configurations()
    if args.only:
        configs = [c for c in configs if args.only in c["name"]]
        if not configs:
            fail(2, f"--only: no configuration's name contains '{args.only}'")

    info = machine_info()
    cores = info["nproc"]
    print(f"machine: {info['cpu']}, {cores} cores; load average at start {info['loadavg_at_start']:.2f}",
          file=sys.stderr)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if os.geteuid() == 0:  # OpenMPI refuses root, and more ranks than cores, unless told
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")

    with tempfile.TemporaryDirectory(prefix="ptt-bench-ch08-") as work:
        given = read_machine_arg(args)
        calibrations, calibration = [], None
        samples = {i: [] for i in range(len(configs))}
        finals = {}
        metrics = os.path.join(work, "m.jsonl")
        for r in range(repeats):
            if given is None:
                machine, calibration = calibrate(args, exe, work, env, r)
                calibrations.append(machine)
            if r == 0:  # where the model places the ranks of a crowded node (rates play no part)
                place_ranks(configs, given if given is not None else machine, exe["plan"], work)
            order = list(range(len(configs)))
            if r % 2:
                order.reverse()
            for i in order:
                c = configs[i]
                steps = max(3, c["steps"] // 10) if args.quick else c["steps"]
                warmup = 2 if args.quick else c["warmup"]
                print(f"repeat {r + 1}/{repeats}: 784-{c['hidden'].replace(',', '-')}-10 {c['name']}",
                      file=sys.stderr, flush=True)
                short, _ = run_training(c, warmup, metrics, args, exe, env)
                long, final = run_training(c, warmup + steps, metrics, args, exe, env)
                samples[i].append((long - short) / steps)
                c["timed_steps"], c["warmup_steps"] = steps, warmup
                finals[i] = final
        machine_path, model_machine, calibrated = machine_file(
            given if given is not None else median_machine(calibrations), work, max(c["workers"] for c in configs))
        predictions(configs, machine_path, exe["plan"], work)

    rows, memory = [], []
    for i, c in enumerate(configs):
        s = samples[i]
        measured = statistics.median(s)
        predicted = c["prediction"]["step_s"]
        rows.append({"shape": "784-" + c["hidden"].replace(",", "-") + "-10", "hidden": c["hidden"],
                     "batch": c["batch"], "config": c["name"], "unseen": c["unseen"],
                     "command": shlex.join(chapter_command(c)), "layout": layout_text(c["layout"]),
                     "workers": c["workers"], "oversubscribed": c["workers"] > cores,
                     "timed_steps": c["timed_steps"], "warmup_steps": c["warmup_steps"],
                     "predicted_ms": 1e3 * predicted, "measured_ms": 1e3 * measured,
                     "measured_min_ms": 1e3 * min(s), "measured_max_ms": 1e3 * max(s),
                     "samples_ms": [1e3 * x for x in s], "error_pct": 100 * (predicted - measured) / measured,
                     "prediction": c["prediction"]})
        if c["program"] == "ch06":
            memory.append(memory_check(c, finals[i], c["prediction"]))
    summary = {"all": error_summary(rows),
               "not_oversubscribed": error_summary([r for r in rows if not r["oversubscribed"]]),
               "oversubscribed": error_summary([r for r in rows if r["oversubscribed"]])}
    result = {"machine": info, "quick": args.quick, "repeats": repeats, "calibration": calibration,
              "calibrations": len(calibrations),
              "machine_file": args.machine, "calibrated_machine": calibrated, "model_machine": model_machine,
              "common_flags": "--optimizer sgd --lr 0.01 --momentum 0.9 --epochs 1 --seed 1 --no-progress "
                              "--max-steps W, then W + S --metrics FILE",
              "targets": {"median_abs_error_pct": TARGET_MEDIAN, "worst_abs_error_pct": TARGET_WORST},
              "rows": rows, "summary": summary, "memory": memory}
    print_report(result)
    for path in filter(None, [args.json, RECORD if args.record else None]):
        with open(path, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
