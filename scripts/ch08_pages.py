#!/usr/bin/env python3
"""Chapter 08's "Which strategy, when?" page and scaling plots, generated from the planner's output.

    /usr/bin/python3 scripts/ch08_pages.py [--plan CH08_PLAN]             print the page
    /usr/bin/python3 scripts/ch08_pages.py [--plan CH08_PLAN] --write     run ch08_plan, write the
        plans (chapters/08_choose/plans.json), the page (docs/pages/strategy.md) and the plots
        (docs/images/ch08_strong_scaling.png, ch08_weak_scaling.png)
    /usr/bin/python3 scripts/ch08_pages.py [--plan CH08_PLAN] --check     exit 1 if plans.json differs
        from what ch08_plan predicts now, or the page from what plans.json gives (a test)
    /usr/bin/python3 scripts/ch08_pages.py [--plan CH08_PLAN] --self-test prove --check catches one
        changed number in the page and one in plans.json

CH08_PLAN defaults to build/release/chapters/08_choose/ch08_plan. Every number is a prediction of
chapter 08's cost model on the shipped h100-cluster profile (datasheet peaks), not a measurement;
the plans are deterministic, so --check can ask for the same numbers. The plots are drawn from
plans.json by --write; --check compares the JSON and the page, not the PNG bytes (those depend on
the matplotlib version).
Exit codes: 0 done, 1 --check found a difference (or --self-test found --check blind), 2 bad input.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

from readme_tables import against  # same folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLANS = os.path.join(ROOT, "chapters", "08_choose", "plans.json")
PAGE = os.path.join(ROOT, "docs", "pages", "strategy.md")
IMAGES = os.path.join(ROOT, "docs", "images")
VALIDATION = os.path.join(ROOT, "chapters", "08_choose", "validation.json")
DEFAULT_PLAN = os.path.join(ROOT, "build", "release", "chapters", "08_choose", "ch08_plan")
TAG = "ch08_pages.py"
PROFILE = "h100-cluster"

SMALL = ["--hidden", "256,128", "--batch", "128", "--optimizer", "sgd"]
WIDE = ["--hidden", "8192,8192,8192", "--batch", "4096", "--optimizer", "adam"]
BIG = ["--hidden", "65536,65536,65536", "--batch", "4096", "--optimizer", "adam"]
# (key, title, arguments, workers): the scenarios the page's tables show.
SCENARIOS = [
    ("small", "The chapters' MLP 784-256-128-10, batch 128, SGD", SMALL, [2, 8]),
    ("wide", "A wide MLP 784-8192-8192-8192-10, batch 4096, Adam", WIDE, [8, 64, 512, 4096]),
    ("big", "A model too big for one device: 784-65536-65536-65536-10, batch 4096, Adam", BIG, [64]),
]
SCALING_HIDDEN = "8192,8192,8192"
SCALING_WORKERS = [2**k for k in range(13)]  # 1 .. 4096
STRONG_BATCH = 4096  # global batch, fixed
WEAK_ROWS = 128  # rows per worker, fixed: global batch 128 N
SHOWN = 3  # distinct grid shapes per table, then the best pure layouts
GB = 1e9


def fail(message):
    print(f"{TAG}: {message}", file=sys.stderr)
    sys.exit(2)


def widths_of(args):
    hidden = args[args.index("--hidden") + 1]
    return [784] + [int(h) for h in hidden.split(",")] + [10]


def model_label(args):
    return "-".join(str(w) for w in widths_of(args))


def run_plan(exe, args, workers):
    """Runs ch08_plan --json and returns (command line, every ranked layout)."""
    cmd = ["ch08_plan", "--machine", PROFILE, *args, "--workers", str(workers), "--json", "plan.json"]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "plan.json")
        try:
            done = subprocess.run([exe, *cmd[1:-1], out], capture_output=True, text=True)
        except OSError as e:
            fail(f"cannot run {exe}: {e} (build it: cmake --build --preset release --target ch08_plan)")
        if done.returncode != 0:
            fail(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
        with open(out) as f:
            ranked = json.load(f)
    return " ".join(cmd[:-2]), ranked


def kind(e):
    """'dp', 'tp', 'pp' for a pure layout, 'one' for a single worker, else None."""
    grid = {"dp": e["dp"], "pp": e["pp"], "tp": e["tp"]}
    used = [k for k, v in grid.items() if v > 1]
    return "one" if not used else used[0] if len(used) == 1 else None


def row(e, rank):
    keep = ("dp", "pp", "tp", "m", "schedule", "zero", "samples_per_s", "step_s", "compute_s", "bubble_s",
            "dp_comm_s", "dp_exposed_s", "tp_comm_s", "pp_comm_s", "update_s", "memory_bytes", "memory_params_bytes",
            "memory_grads_bytes", "memory_optimizer_bytes", "memory_activations_bytes", "memory_buffers_bytes", "fits", "reason")
    out = {k: e[k] for k in keep}
    out["rank"] = rank
    return out


def best_pure(ranked, which):
    """The best layout using only @p which (fitting first: the ranking's order), or None."""
    for i, e in enumerate(ranked):
        if kind(e) == which:
            return row(e, i + 1)
    return None


def scenario(exe, args, workers):
    command, ranked = run_plan(exe, args, workers)
    shapes, top = set(), []
    for i, e in enumerate(ranked):
        shape = (e["dp"], e["pp"], e["tp"], e["m"])
        if e["fits"] and shape not in shapes and len(top) < SHOWN:
            shapes.add(shape)
            top.append(row(e, i + 1))
    pure = {w: best_pure(ranked, w if workers > 1 else "one") for w in ("dp", "tp", "pp")}
    # The plain replica (ZeRO-0): what data parallelism costs in memory without sharding.
    plain = [i for i, e in enumerate(ranked) if kind(e) == "dp" and e["zero"] == 0]
    return {"command": command, "workers": workers, "layouts": len(ranked),
            "fitting": sum(e["fits"] for e in ranked), "top": top, "pure": pure,
            "plain_dp": row(ranked[plain[0]], plain[0] + 1) if plain else None}


def scaling_point(exe, batch, workers):
    command, ranked = run_plan(exe, ["--hidden", SCALING_HIDDEN, "--batch", str(batch), "--optimizer", "adam"],
                               workers)
    fitting = [e for e in ranked if e["fits"]]
    point = {"workers": workers, "batch": batch, "command": command,
             "best": row(fitting[0], 1) if fitting else None}
    for w in ("dp", "tp", "pp"):
        pure = [e for e in fitting if kind(e) == (w if workers > 1 else "one")]
        point[w] = {k: pure[0][k] for k in ("dp", "pp", "tp", "m", "schedule", "zero", "samples_per_s")} if pure else None
    return point


def profile(exe):
    """The machine profile as ch08_plan saves it (--save-machine): its rates and their sources."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "machine.json")
        done = subprocess.run([exe, "--machine", PROFILE, "--save-machine", path], capture_output=True, text=True)
        if done.returncode != 0:
            fail(f"ch08_plan --save-machine exited {done.returncode}: {done.stderr.strip()}")
        with open(path) as f:
            return json.load(f)


def predict(exe):
    """Everything the page and the plots show, from ch08_plan."""
    return {
        "what": "PREDICTIONS of chapter 08's cost model (ch08_plan), not measurements: datasheet peak rates "
                "of the shipped profile, no run of the model on any machine. Made by scripts/ch08_pages.py "
                "--write; each entry keeps its ch08_plan command line (plus --json FILE).",
        "machine": PROFILE,
        "profile": profile(exe),
        "scenarios": [{"key": key, "title": title, "args": args, "runs": [scenario(exe, args, w) for w in workers]}
                      for key, title, args, workers in SCENARIOS],
        "scaling": {"hidden": SCALING_HIDDEN, "optimizer": "adam", "strong_batch": STRONG_BATCH,
                    "weak_rows_per_worker": WEAK_ROWS,
                    "strong": [scaling_point(exe, STRONG_BATCH, n) for n in SCALING_WORKERS],
                    "weak": [scaling_point(exe, WEAK_ROWS * n, n) for n in SCALING_WORKERS]},
    }


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------

def layout_name(e):
    text = f"dp={e['dp']} pp={e['pp']} tp={e['tp']} m={e['m']}"
    if e["pp"] > 1 and e["m"] > 1:
        text += f" {e['schedule']}"
    if e["zero"]:
        text += f" ZeRO-{e['zero']}"
    return text


def sps(x):
    return f"{x:,.0f}"


def gb(b):
    return f"{b / GB:.3g}"


def efficiency(points, name):
    base = points[0]["best"]["samples_per_s"]  # one worker: its best layout (dp=pp=tp=1)
    return [(p["workers"], p[name]["samples_per_s"] / (p["workers"] * base))
            for p in points if (p["best"] if name == "best" else p[name]) is not None]


def table(run):
    lines = ["| rank | layout | samples/s | step ms | memory per worker, GB | fits | the planner's reason |",
             "|---:|---|---:|---:|---:|:---:|---|"]
    shown = []
    for e in run["top"]:
        shown.append(("", e))
    for w in ("dp", "tp", "pp"):
        e = run["pure"][w]
        if e is not None and all(e["rank"] != s["rank"] for _, s in shown):
            shown.append((f"best pure {w}: ", e))
    for label, e in shown:
        lines.append(f"| {e['rank']} | {label}{layout_name(e)} | {sps(e['samples_per_s'])} | {1e3 * e['step_s']:.3f} | "
                     f"{gb(e['memory_bytes'])} | {'yes' if e['fits'] else '**no**'} | {e['reason']} |")
    missing = [w for w in ("dp", "tp", "pp") if run["pure"][w] is None]
    notes = [f"{run['layouts']} valid layouts, {run['fitting']} fit; `{run['command']}`."]
    if missing:
        notes.append("No valid pure " + " or pure ".join(missing) + f" layout of {run['workers']} workers "
                     "(pp cannot exceed the layers, tp must divide the split widths).")
    return lines + [""] + notes


def find(data, key, workers):
    for s in data["scenarios"]:
        if s["key"] == key:
            for r in s["runs"]:
                if r["workers"] == workers:
                    return r
    raise KeyError((key, workers))


def rules(data):
    """Each rule is a sentence, a condition on the tables above that must hold, and the row that backs it.
    A rule whose condition fails stops the generator: the page cannot claim what its tables deny."""
    small8, wide8, wide64 = find(data, "small", 8), find(data, "wide", 8), find(data, "wide", 64)
    wide512, wide4096, big = find(data, "wide", 512), find(data, "wide", 4096), find(data, "big", 64)
    strong = data["scaling"]["strong"]
    node = data["profile"]["workers_per_node"]
    out = []

    def rule(text, holds, backing):
        if not holds:
            fail(f"a rule no longer holds for the current plans: {text}")
        out.append(f"- {text} ({backing})")

    b = wide8["top"][0]
    rule("**Inside one node, a wide model that fits: data parallelism.** Its all-reduce runs on NVLink and hides "
         "behind the backward; ZeRO shards the optimizer state (and more) for free.",
         kind(b) == "dp" and b["dp_exposed_s"] == 0,
         f"the wide MLP on 8 workers: rank 1 is {layout_name(b)}, {sps(b['samples_per_s'])} samples/s")
    b, d = wide64["top"][0], wide64["pure"]["dp"]
    rule("**Across nodes, put tensor parallelism inside each node.** Pure dp must all-reduce the whole gradient "
         f"over the slower inter-node link; tp {b['tp']} on NVLink divides that gradient by {b['tp']}.",
         1 < b["tp"] <= node and b["samples_per_s"] > 2 * d["samples_per_s"],
         f"the wide MLP on 64 workers: {layout_name(b)} at {sps(b['samples_per_s'])} samples/s against pure dp's "
         f"{sps(d['samples_per_s'])}")
    t = wide512["pure"]["tp"]
    rule("**Tensor parallelism across nodes is slow.** Its all-reduces come every layer, on the slow link.",
         t is not None and t["tp"] > node and t["samples_per_s"] < wide512["top"][0]["samples_per_s"] / 5,
         f"the wide MLP on 512 workers: pure tp={t['tp']}, {sps(t['samples_per_s'])} samples/s")
    b, b64 = wide512["top"][0], wide64["top"][0]
    rule("**Pipeline stages come last.** They pay a bubble, (P−1)/(m+P−1) of the step; they enter the best "
         "layout only at a larger scale, once tp fills a node.",
         b64["pp"] == 1 and b["pp"] > 1 and b["tp"] == node,
         f"the wide MLP: pp=1 is best on 64 workers, {layout_name(b)} on 512, with a "
         f"{100 * b['bubble_s'] / b['step_s']:.0f} % bubble")
    p4 = strong[2]["pp"]
    rule("**Pure pipeline parallelism does not scale far.** It stops at the layer count, and its bubble grows "
         "with the stages.",
         p4 is not None and p4["pp"] == 4 and strong[3]["pp"] is None,
         f"strong scaling below: pure pp on 4 workers reaches efficiency "
         f"{efficiency(strong, 'pp')[2][1]:.2f}, and there is no pure pp of 8")
    plain, b, d = big["plain_dp"], big["top"][0], big["pure"]["dp"]
    rule("**When the model does not fit, shard it.** A plain replica (ZeRO-0) does not fit; ZeRO alone makes "
         "dp fit, but every step then all-reduces the whole gradient across nodes; tp leaves each worker a 1/T "
         "slice of the weights, their gradient and their state.",
         not plain["fits"] and b["fits"] and b["tp"] > 1 and d["fits"] and d["samples_per_s"] < b["samples_per_s"] / 5,
         f"{model_label(BIG)} on {big['workers']} workers: plain dp needs {gb(plain['memory_bytes'])} GB per worker; pure dp with "
         f"ZeRO-{d['zero']} fits at {sps(d['samples_per_s'])} samples/s; the best, {layout_name(b)}, "
         f"{sps(b['samples_per_s'])}")
    b8, b64 = wide8["top"][0], wide64["top"][0]
    rule("**With dp > 1, shard with ZeRO.** ZeRO-1 and 2 move the same bytes as the all-reduce and make the "
         "update 1/D as long, so they tie or win; ZeRO-3 wins too where the model lets its extra gathers hide "
         "behind the backward (an assumption, see below).",
         b8["zero"] > 0 and b64["zero"] > 0,
         f"the wide MLP: rank 1 uses ZeRO-{b8['zero']} on 8 workers, ZeRO-{b64['zero']} on 64")
    b = wide4096["top"][0]
    eff = efficiency(strong, "best")[-1][1]
    rule("**Too many workers for the batch: nothing scales.** With a global batch of 4096 on 4096 workers even "
         "the best layout keeps little of each worker busy, and tp crosses nodes.",
         eff < 0.1 and b["tp"] > node,
         f"the wide MLP on 4096 workers: {layout_name(b)}, strong-scaling efficiency {eff:.3f}")
    b = small8["top"][0]
    rule("**Tiny models: do not trust the ranking.** A predicted step of tens of microseconds is where the model's "
         "gaps (kernel launches, element-wise work, a GEMM rate that ignores shape) decide; on a real machine "
         "the answer must be measured (chapters 02 and 03 measure this MLP on 2 cores).",
         b["step_s"] < 1e-4,
         f"{model_label(SMALL)} on {small8['workers']} workers: the predicted best step is {1e3 * b['step_s']:.3f} ms")
    return out


def breakdown(data):
    big = find(data, "big", 64)
    b, plain = big["top"][0], big["plain_dp"]
    lines = ["| memory per worker, GB | parameters | gradients | optimizer state | activations | buffers | total | "
             f"fits in {gb(data['profile']['memory_bytes'])} GB |", "|---|---:|---:|---:|---:|---:|---:|:---:|"]
    for label, e in ((f"best: {layout_name(b)}", b), (f"plain dp: {layout_name(plain)}", plain)):
        lines.append(f"| {label} | {gb(e['memory_params_bytes'])} | {gb(e['memory_grads_bytes'])} | "
                     f"{gb(e['memory_optimizer_bytes'])} | {gb(e['memory_activations_bytes'])} | "
                     f"{gb(e['memory_buffers_bytes'])} | "
                     f"{gb(e['memory_bytes'])} | {'yes' if e['fits'] else 'no'} |")
    return lines


def page(data):
    sc = data["scaling"]
    out = [
        "# Which strategy, when? {#strategy}",
        "",
        "<!-- Generated by scripts/ch08_pages.py from chapters/08_choose/plans.json: do not edit by hand. -->",
        "",
        "Every number on this page is a **prediction** of @ref md_chapters_08_choose_README \"chapter 08\"'s cost "
        f"model (`ch08_plan`) on its shipped `{data['machine']}` profile — nodes of "
        f"{data['profile']['workers_per_node']} H100 GPUs of {gb(data['profile']['memory_bytes'])} GB at their "
        "datasheet peak rates — not a measurement. The model has not yet been validated against measured runs "
        "(see *Validation* below). The page is generated from `chapters/08_choose/plans.json`, which keeps every "
        "`ch08_plan` command line; remake both with",
        "",
        "```sh",
        "./tutorial plan --pages   # builds ch08_plan, then runs scripts/ch08_pages.py --write:",
        "                          # plans.json, this page and the two plots",
        "```",
        "",
        "`ch08_plan` tries every dp × pp × tp grid of the workers with 1–64 micro-batches, GPipe and 1F1B, ZeRO "
        "0–3, keeps those that fit in a worker's memory and ranks them by samples per second. Each table shows the "
        f"best {SHOWN} grid shapes, then the best layout that uses only dp, only tp or only pp (its rank in the "
        "planner's list in the first column).",
        "",
    ]
    for s in data["scenarios"]:
        out += [f"## {s['title']}", ""]
        for r in s["runs"]:
            out += [f"**{r['workers']} workers**", ""] + table(r) + [""]
    out += ["## Rules of thumb, and the row behind each", ""]
    out += ["Each rule is checked by the generator against the tables above; it stops if one no longer holds.", ""]
    out += rules(data) + [""]
    out += ["## Memory per worker: the big model on 64 workers", "",
            "Where the bytes go in the best layout of the model that does not fit one device, next to a plain "
            "data-parallel replica (Adam, fp32: 4 bytes of parameters, 4 of gradients and 8 of state per "
            "parameter, chapter 08's *Memory per worker*):", ""]
    out += breakdown(data) + [""]
    strong_best, weak_best = efficiency(sc["strong"], "best"), efficiency(sc["weak"], "best")
    out += [
        "## Scaling curves",
        "",
        f"The wide MLP (784-{SCALING_HIDDEN.replace(',', '-')}-10, Adam, fp32) from 1 to "
        f"{SCALING_WORKERS[-1]} workers. **Efficiency** is throughput(N) / (N × throughput(1)): 1 is perfect "
        "scaling, and throughput(1) is the best one-worker layout at the same batch per step (strong) or per "
        "worker (weak). **Strong scaling** keeps the global batch at "
        f"{sc['strong_batch']}; **weak scaling** keeps {sc['weak_rows_per_worker']} rows per worker (a global "
        f"batch of {sc['weak_rows_per_worker']} N). Each curve is the best fitting layout of its kind: the best "
        "of all, pure dp (any m, ZeRO), pure tp, pure pp. A pure curve stops where its layout cannot run the "
        f"model: pp at the {len(widths_of(['--hidden', SCALING_HIDDEN])) - 1} layers, tp where it no longer "
        f"divides the split widths (here not before {SCALING_WORKERS[-1]}: they are {SCALING_HIDDEN.split(',')[0]}), "
        "dp where a replica would get less than one row (not before the batch).",
        "",
        "\\image html ch08_strong_scaling.png \"Strong scaling efficiency (predicted)\"",
        "",
        "\\image html ch08_weak_scaling.png \"Weak scaling efficiency (predicted)\"",
        "",
    ]
    for mode, label in (("strong", f"Strong scaling, global batch {sc['strong_batch']}"),
                        ("weak", f"Weak scaling, {sc['weak_rows_per_worker']} rows per worker")):
        effs = {name: dict(efficiency(sc[mode], name)) for name in ("best", "dp", "tp", "pp")}
        out += [f"{label}: efficiency of each curve (— where the layout cannot run the model)", "",
                "| workers | best layout | best | pure dp | pure tp | pure pp |", "|---:|---|---:|---:|---:|---:|"]
        for p in sc[mode]:
            cells = [f"{effs[name][p['workers']]:.3g}" if p['workers'] in effs[name] else "—"
                     for name in ("best", "dp", "tp", "pp")]
            out.append(f"| {p['workers']} | {layout_name(p['best'])} | " + " | ".join(cells) + " |")
        out.append("")
    above = [(n, e) for n, e in efficiency(sc["weak"], "best") if e > 1.0]
    if above:
        n, e = max(above, key=lambda x: x[1])
        one = sc["weak"][0]["best"]
        out += [f"Weak efficiency above 1 (up to {e:.2f} at {n} workers) is not a mistake of the arithmetic: the "
                f"one-worker step is not all GEMMs. {100 * one['update_s'] / one['step_s']:.0f} % of it is the "
                "optimizer update, which streams every parameter, gradient and Adam state through memory; a plain "
                "replica repeats it on every worker, while tp gives each worker 1/T of the parameters and ZeRO "
                "1/D of the update.", ""]
    out += validation_section()
    out += [
        "## What the model leaves out",
        "",
        "From chapter 08's *What is not done yet*:",
        "",
        "- one GEMM rate for every shape: a product over fewer rows is slower per row in practice (chapter 02), "
        "so many micro-batches or tiny per-replica batches look better here than they are;",
        "- one ring per group at the slowest link: NCCL's trees and hierarchical rings, and a node's 8 NICs "
        "working at once, are not modelled;",
        "- no interleaved pipeline schedule in the enumeration; ZeRO-3's gathers are assumed as overlappable as "
        "an all-reduce;",
        "- element-wise work (ReLU, bias, loss) and kernel launch costs are ignored; activations are chapter 06's "
        "stored buffers, not a framework's.",
        "",
        "## Where each strategy is taught",
        "",
        "- data parallel on threads: @ref md_chapters_02_openmp_data_parallel_README \"chapter 02\"; across "
        "processes, with the ring all-reduce and its α-β model: @ref md_chapters_03_mpi_data_parallel_README "
        "\"chapter 03\";",
        "- one worker on a GPU: @ref md_chapters_04_cuda_kernels_README \"chapter 04\";",
        "- tensor and pipeline parallelism, GPipe and 1F1B, the bubble: @ref md_chapters_05_model_parallel_README "
        "\"chapter 05\";",
        "- the dp × pp × tp grid and ZeRO-1: @ref md_chapters_06_hybrid_README \"chapter 06\";",
        "- uneven data and uneven workers: @ref md_chapters_07_uneven_data_README \"chapter 07\";",
        "- the cost model and the planner behind this page: @ref md_chapters_08_choose_README \"chapter 08\".",
        "",
    ]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The validation (chapters/08_choose/validation.json, written by scripts/bench_ch08.py --record)
# ---------------------------------------------------------------------------------------------

def validation():
    try:
        with open(VALIDATION) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        fail(f"{VALIDATION}: {e}")


def validation_section():
    v = validation()
    m, s = v["machine"], v["summary"]
    groups = [("all", "all"), ("not_oversubscribed", "not oversubscribed (workers <= cores)"),
              ("oversubscribed", f"oversubscribed (more workers than the {m['nproc']} cores)")]
    out = ["## Validation: predicted against measured", "",
           f"The tables above rest on the model; here is how well it predicts runs it can check. `./tutorial bench "
           f"08` ran {s['all']['count']} configurations of chapters 01–06 (threads, ranks, tp, pp and 4-rank grids, "
           "three MLP shapes, one of them never seen by the calibration) on this project's machine "
           f"({m['cpu']}, {m['nproc']} cores, {m['date'][:10]}), each predicted by the model calibrated on that "
           "machine. One point per configuration: on the diagonal the prediction is exact; the bands are ±15 % "
           "and ±35 %, the targets for the median and the worst error.", "",
           "\\image html ch08_validation.png \"Predicted against measured step time (measured)\"", "",
           "| configurations | count | median \\|error\\| (target <= 15 %) | worst \\|error\\| (target <= 35 %) |",
           "|---|---:|---:|---:|"]
    for key, label in groups:
        g = s.get(key)
        if g:
            out.append(f"| {label} | {g['count']} | {against(g['median_abs_error_pct'], g['median_target_pct'])} "
                       f"{'met' if g['median_met'] else 'MISSED'} | "
                       f"{against(g['worst_abs_error_pct'], g['worst_target_pct'])} "
                       f"{'met' if g['worst_met'] else 'MISSED'} |")
    worst = max(v["rows"], key=lambda r: abs(r["error_pct"]))
    out += ["", f"The worst point is {worst['shape']} at batch {worst['batch']}, {worst['config']}: predicted "
            f"{worst['predicted_ms']:.3f} ms, measured {worst['measured_ms']:.3f} ms ({worst['error_pct']:+.0f} %). "
            "Chapter 08's *Validation* lists every configuration and says where the model misses and why. These "
            "are CPU runs of the chapters' MLPs on 2 cores; the profile above is a GPU cluster from datasheet rates, "
            "which no run here can check.", ""]
    return out


def validation_plot(out_dir, plt):
    v = validation()
    fig, ax = plt.subplots(figsize=(6.2, 5.2))
    rows = v["rows"]
    lo = min(min(r["measured_ms"], r["predicted_ms"]) for r in rows) / 1.5
    hi = max(max(r["measured_ms"], r["predicted_ms"]) for r in rows) * 1.5
    xs = [lo, hi]
    ax.fill_between(xs, [x / 1.35 for x in xs], [x * 1.35 for x in xs], color="#dddddd", alpha=0.5, linewidth=0,
                    label="±35 %")
    ax.fill_between(xs, [x / 1.15 for x in xs], [x * 1.15 for x in xs], color="#bbbbbb", alpha=0.5, linewidth=0,
                    label="±15 %")
    ax.plot(xs, xs, color="#444444", linewidth=0.8)
    for over, (label, color, marker) in {False: ("workers <= cores", "#3b6fb6", "o"),
                                         True: ("oversubscribed", "#d0703a", "^")}.items():
        pts = [r for r in rows if r["oversubscribed"] == over]
        ax.errorbar([r["measured_ms"] for r in pts], [r["predicted_ms"] for r in pts],
                    xerr=[[r["measured_ms"] - r["measured_min_ms"] for r in pts],
                          [r["measured_max_ms"] - r["measured_ms"] for r in pts]],
                    fmt=marker, color=color, markersize=4, elinewidth=0.6, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("measured step, ms (median, min-max)")
    ax.set_ylabel("predicted step, ms")
    s = v["summary"]["all"]
    ax.set_title(f"chapter 08's model against {s['count']} runs of chapters 01-06\n"
                 f"median |error| {s['median_abs_error_pct']:.1f} %, worst {s['worst_abs_error_pct']:.1f} %")
    ax.legend(loc="upper left", fontsize=8)
    m = v["machine"]
    fig.text(0.01, -0.03, f"MEASURED on {m['cpu']}, {m['nproc']} cores, {m['date'][:10]}\nfrom "
             "chapters/08_choose/validation.json (scripts/bench_ch08.py --record), made by scripts/ch08_pages.py",
             fontsize=7, color="#555555")
    fig.savefig(os.path.join(out_dir, "ch08_validation.png"), bbox_inches="tight", pad_inches=0.15,
                metadata={"Software": None})
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# The plots
# ---------------------------------------------------------------------------------------------

def plots(data, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.size": 10, "axes.grid": True,
                         "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False})
    sc = data["scaling"]
    styles = {"best": ("best layout", "#222222", "o", "-"), "dp": ("pure dp", "#3b6fb6", "s", "--"),
              "tp": ("pure tp", "#d0703a", "^", "--"), "pp": ("pure pp", "#2e9a5a", "D", "--")}
    for mode, title in (("strong", f"strong scaling: global batch {sc['strong_batch']}"),
                        ("weak", f"weak scaling: {sc['weak_rows_per_worker']} rows per worker")):
        fig, ax = plt.subplots(figsize=(7.5, 4.2))
        for name, (label, color, marker, line) in styles.items():
            pts = efficiency(sc[mode], name)
            ax.plot([n for n, _ in pts], [e for _, e in pts], line, color=color, marker=marker, markersize=4,
                    label=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(SCALING_WORKERS[::3], [str(n) for n in SCALING_WORKERS[::3]])
        ax.set_yscale("log")
        ax.set_xlabel("workers N")
        ax.set_ylabel("efficiency = throughput(N) / (N throughput(1))")
        ax.set_title(f"PREDICTED {title}\n784-{sc['hidden'].replace(',', '-')}-10, Adam, fp32")
        node = data["profile"]["workers_per_node"]
        ax.axvline(node, color="#999999", linewidth=0.8)
        ax.text(node, ax.get_ylim()[0], " one node", color="#777777", va="bottom", fontsize=8)
        ax.legend(loc="lower left", fontsize=9)
        fig.text(0.01, -0.04, f"prediction of ch08_plan on the {data['machine']} profile (datasheet peaks), not a "
                 "measurement\nfrom chapters/08_choose/plans.json, made by scripts/ch08_pages.py", fontsize=7,
                 color="#555555")
        fig.savefig(os.path.join(out_dir, f"ch08_{mode}_scaling.png"), bbox_inches="tight", pad_inches=0.15,
                    metadata={"Software": None})
        plt.close(fig)
    validation_plot(out_dir, plt)


# ---------------------------------------------------------------------------------------------
# --check and --self-test
# ---------------------------------------------------------------------------------------------

def same(a, b, path="plans"):
    """None if @p a equals @p b (numbers to 1e-9 relative), else where they first differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{path}: keys {sorted(a.keys() ^ b.keys())}"
        for k in a:
            why = same(a[k], b[k], f"{path}.{k}")
            if why:
                return why
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} entries against {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            why = same(x, y, f"{path}[{i}]")
            if why:
                return why
        return None
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or \
                not isinstance(b, (int, float)) or not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15):
            return f"{path}: {a} against {b}"
        return None
    return None if a == b else f"{path}: {a!r} against {b!r}"


def check(exe, plans_path, page_path):
    try:
        with open(plans_path) as f:
            committed = json.load(f)
        with open(page_path) as f:
            committed_page = f.read()
    except (OSError, json.JSONDecodeError) as e:
        fail(str(e))
    why = same(predict(exe), committed)
    if why:
        print(f"{TAG}: {plans_path} differs from what ch08_plan predicts now ({why}); "
              f"run /usr/bin/python3 scripts/{TAG} --write", file=sys.stderr)
        return 1
    if page(committed) != committed_page:
        print(f"{TAG}: {page_path} differs from what {plans_path} gives; run /usr/bin/python3 scripts/{TAG} --write",
              file=sys.stderr)
        return 1
    print(f"{TAG}: {os.path.relpath(plans_path, ROOT)} matches ch08_plan and {os.path.relpath(page_path, ROOT)} "
          "matches it")
    return 0


def self_test(exe):
    """--check must pass on copies of the page and plans.json, and fail when one samples/s digit of either changes."""
    import re

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        plans, pg = os.path.join(tmp, "plans.json"), os.path.join(tmp, "strategy.md")
        for target in ("nothing", "page", "plans"):
            shutil.copy(PLANS, plans)
            shutil.copy(PAGE, pg)
            if target == "nothing":  # the untouched copies pass: --check does not fail on everything
                rc = subprocess.run([sys.executable, __file__, "--plan", exe, "--check", "--plans", plans, "--page",
                                     pg], capture_output=True).returncode
                print(f"{TAG} --self-test: --check on untouched copies exits {rc}")
                results.append(rc == 0)
                continue
            path = pg if target == "page" else plans
            text = open(path).read()
            if target == "page":  # the first samples/s cell of the first table
                cell = re.search(r"\| \d+ \| [^|]+ \| [\d,]*(\d) \|", text)
            else:  # the first samples_per_s in the file
                cell = re.search(r'"samples_per_s": [\d.]*?(\d)[,.e\n]', text)
            digit = cell.group(1)
            text = text[:cell.start(1)] + str((int(digit) + 1) % 10) + text[cell.end(1):]
            open(path, "w").write(text)
            rc = subprocess.run([sys.executable, __file__, "--plan", exe, "--check", "--plans", plans, "--page", pg],
                                capture_output=True).returncode
            print(f"{TAG} --self-test: --check with one samples/s digit of the {target} changed exits {rc}")
            results.append(rc == 1)
    return 0 if all(results) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write plans.json, the page and the plots")
    mode.add_argument("--check", action="store_true", help="exit 1 if plans.json or the page is stale")
    mode.add_argument("--self-test", action="store_true", help="prove --check catches a changed number")
    parser.add_argument("--plan", default=os.environ.get("PTT_CH08_PLAN", DEFAULT_PLAN), help="the ch08_plan binary")
    parser.add_argument("--plans", default=PLANS, help=argparse.SUPPRESS)
    parser.add_argument("--page", default=PAGE, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.access(args.plan, os.X_OK):
        fail(f"--plan: {args.plan} is not an executable ch08_plan (build it: cmake --build --preset release "
             "--target ch08_plan)")
    if args.self_test:
        return self_test(args.plan)
    if args.check:
        return check(args.plan, args.plans, args.page)
    data = predict(args.plan)
    text = page(data)
    if not args.write:
        print(text)
        return 0
    with open(args.plans, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    with open(args.page, "w") as f:
        f.write(text)
    plots(data, IMAGES)
    print(f"{TAG}: wrote {os.path.relpath(args.plans, ROOT)}, {os.path.relpath(args.page, ROOT)}, "
          "docs/images/ch08_strong_scaling.png, docs/images/ch08_weak_scaling.png, docs/images/ch08_validation.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
