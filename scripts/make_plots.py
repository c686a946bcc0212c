#!/usr/bin/env python3
"""Makes the site's plots from the benchmarks' JSON, one command:

    /usr/bin/python3 scripts/make_plots.py [--build build/release] [--out docs/images]

Reads the chapters' committed result files (chapters/NN_*/results.json, which
`./tutorial bench NN --record` writes with scripts/bench_chNN.py) and writes PNGs that
docs/pages/results.md shows:

    ch01_vs_pytorch.png     samples/s of chapter 01 next to PyTorch, per MLP (median, min-max)
    ch02_speedup.png        chapter 02's speedup over its own 1-thread run vs threads, with
                            Amdahl's prediction from the measured serial fraction
    ch03_scaling.png        chapter 03's samples/s per ranks x threads and allreduce, vs ch01
    ch03_allreduce.png      allreduce time by size: MPI_Allreduce, our ring, the alpha-beta model
    ch05_bubble.png         chapter 05's pipeline bubble vs micro-batches for p = 2..4, GPipe and
                            1F1B, measured on balanced synthetic stages and on the real MLP, next
                            to (p-1)/(m+p-1)
    training_curves.png     train loss and test accuracy per epoch of every chapter, from the
                            tour's --metrics files (build/release/tour/run*.jsonl, ./tutorial run)
    ch06_memory.png         chapter 06's bytes per rank by kind, ZeRO 0 and 1 at dp 1, 2, 4, from its
                            committed results.json
    ch07_accuracy.png       chapter 07's test accuracy vs averaging period for each split, from
                            its committed chapters/07_uneven_data/results_5ranks.jsonl

Every plot is stamped with the machine it was measured on (CPU, cores, date, from the JSON):
plots are committed, and a number means nothing without its machine. A missing input is skipped
with a note and its committed plot is kept; if there is no plot at all yet, a placeholder that
says how to make it is written, so the site always builds.

Needs only Debian's python3-matplotlib (run it with /usr/bin/python3); no display (Agg backend).
Exit codes: 0 done (some inputs may be missing), 2 bad arguments or unreadable JSON.
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The same look on every plot: small, readable on the site's white pages.
plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.size": 10, "axes.grid": True,
                     "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False})
COLORS = {"ch01": "#3b6fb6", "torch": "#d0703a", "ch02": "#3b6fb6", "predicted": "#7a7a7a",
          "mpi": "#3b6fb6", "ring": "#2e9a5a", "model": "#7a7a7a", "bucketed": "#9b59b6", "torch-ddp": "#d0703a"}


def mlp_label(hidden):
    return "784-" + hidden.replace(",", "-") + "-10"


def stamp(fig, data, source):
    """Writes the machine and the source file under the plot."""
    m = data.get("machine", {})
    text = (f"{m.get('cpu', 'unknown CPU')}, {m.get('nproc', '?')} cores, {m.get('date', 'no date')}"
            + (f", load {m['loadavg_at_start']:.2f} at start" if "loadavg_at_start" in m else "")
            + (f"; {m['mpi']}" if m.get("mpi") else "")
            + (" (--quick: smoke-test numbers)" if data.get("quick") else "")
            + f"\nfrom {source}, made by scripts/make_plots.py")
    fig.text(0.01, 0.01, text, fontsize=7.5, color="#555555", va="bottom", ha="left")


def save(fig, path):
    # tight: crop the margins; no "Software" entry, so the files do not change with matplotlib
    fig.savefig(path, bbox_inches="tight", pad_inches=0.15, metadata={"Software": None})
    plt.close(fig)
    print(f"make_plots: wrote {path}")


def ch01_vs_pytorch(data, source, path):
    results = data["results"]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    fig.subplots_adjust(bottom=0.2, top=0.88)
    width = 0.36
    for k, (side, label) in enumerate((("ch01", "chapter 01 (C++, Eigen)"),
                                       ("torch", "PyTorch (same MLP, threads, optimizer)"))):
        xs = [i + (k - 0.5) * width for i in range(len(results))]
        med = [r[side]["median"] for r in results]
        err = [[r[side]["median"] - r[side]["min"] for r in results],
               [r[side]["max"] - r[side]["median"] for r in results]]
        ax.bar(xs, med, width, yerr=err, capsize=4, label=label, color=COLORS[side])
    for i, r in enumerate(results):
        top = max(r["ch01"]["max"], r["torch"]["max"])
        ax.annotate(f"{r['ratio']:.2f}x", (i, top), textcoords="offset points", xytext=(0, 6),
                    ha="center", fontweight="bold")
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([r["config"] for r in results])
    ax.set_ylabel("training samples/s (median, bars: min-max)")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.12)
    ax.set_title(f"Chapter 01 vs PyTorch, {data.get('threads', 1)} thread(s): samples/s and ratio")
    ax.legend(loc="upper right", fontsize=8.5)
    stamp(fig, data, source)
    save(fig, path)


def ch02_speedup(data, source, path):
    amdahl = data["amdahl"]
    mlps = list(dict.fromkeys(row["mlp"] for row in amdahl))
    fig, axes = plt.subplots(1, len(mlps), figsize=(4.2 * len(mlps) + 0.6, 4.2), squeeze=False)
    fig.subplots_adjust(bottom=0.22, top=0.85, wspace=0.3)
    for ax, mlp in zip(axes[0], mlps):
        rows = [row for row in amdahl if row["mlp"] == mlp and row.get("variant", "fast") == "fast"]
        owner = [row for row in amdahl if row["mlp"] == mlp and row.get("variant") == "owner"]
        threads = [row["threads"] for row in rows]
        ax.plot(threads, threads, ":", color="#bbbbbb", label="ideal (T)")
        ax.plot(threads, [row["predicted"] for row in rows], "--o", color=COLORS["predicted"],
                label=f"Amdahl, s = {rows[0]['serial_fraction']:.3f}")
        ax.plot(threads, [row["measured"] for row in rows], "-o", color=COLORS["ch02"],
                label="measured (ch02 fast: buffers)")
        if owner:
            ax.plot(threads, [row["measured"] for row in owner], "-s", color=COLORS["ch02"], alpha=0.55,
                    label="measured (ch02 --reduce owner)")
        ax.set_xticks(threads)
        ax.set_xlabel("threads T")
        ax.set_ylabel("speedup over 1 thread")
        ax.set_title(mlp_label(mlp), fontsize=10)
        ax.set_ylim(0, max(threads) * 1.1)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("Chapter 02: speedup vs threads, measured and Amdahl's prediction")
    stamp(fig, data, source)
    save(fig, path)


def ch03_scaling(data, source, path):
    rows = data["throughput"]
    mlps = list(dict.fromkeys(row["mlp"] for row in rows))
    count = max(len([row for row in rows if row["mlp"] == mlp]) for mlp in mlps)
    fig, axes = plt.subplots(len(mlps), 1, figsize=(8, (0.32 * count + 1.1) * len(mlps) + 1.2), squeeze=False)
    fig.subplots_adjust(left=0.33, right=0.93, hspace=0.55, top=0.9, bottom=0.13)
    for ax, mlp in zip(axes[:, 0], mlps):
        mine = [row for row in rows if row["mlp"] == mlp]
        labels = [row["variant"].replace("ch03 ", "") for row in mine]
        med = [row["samples_per_s"]["median"] for row in mine]
        err = [[row["samples_per_s"]["median"] - row["samples_per_s"]["min"] for row in mine],
               [row["samples_per_s"]["max"] - row["samples_per_s"]["median"] for row in mine]]
        colors = [COLORS.get(row["allreduce"], COLORS["ch01"]) for row in mine]
        ys = range(len(mine))
        ax.barh(ys, med, xerr=err, capsize=3, color=colors)
        for y, row in zip(ys, mine):
            ax.annotate(f"{row['vs_ch01']:.2f}x", (row["samples_per_s"]["max"], y),
                        textcoords="offset points", xytext=(4, -3), fontsize=8)
        ax.set_yticks(list(ys))
        ax.set_yticklabels(labels, fontsize=8.5)
        ax.invert_yaxis()
        ax.set_xlim(0, ax.get_xlim()[1] * 1.1)
        ax.set_xlabel("samples/s (median, bars: min-max); number: speedup vs ch01", fontsize=9)
        batch = mine[0].get("global_batch")
        ax.set_title(mlp_label(mlp) + (f", global batch {batch}" if batch else ""), fontsize=10)
    fig.suptitle("Chapter 03: ranks x threads per rank, by allreduce algorithm")
    stamp(fig, data, source)
    save(fig, path)


def ch03_allreduce(data, source, path):
    allreduce = data["allreduce"]
    sizes = allreduce["sizes"]
    mb = [s["bytes"] / 2**20 for s in sizes]
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    fig.subplots_adjust(bottom=0.2, top=0.88)
    ax.loglog(mb, [1e3 * s["mpi_s"] for s in sizes], "-o", color=COLORS["mpi"], linewidth=3, markersize=8,
              alpha=0.6, label="MPI_Allreduce")
    ax.loglog(mb, [1e3 * s["ring_s"] for s in sizes], "-s", color=COLORS["ring"], linewidth=1.2,
              markersize=5, markerfacecolor="none", label="our ring (ring_allreduce)")
    ax.loglog(mb, [1e3 * s["predicted_s"] for s in sizes], "--", color=COLORS["model"],
              label=f"alpha-beta model: α = {1e6 * allreduce['alpha_s']:.2f} µs, "
                    f"B = {allreduce['bandwidth_Bps'] / 1e9:.2f} GB/s")
    ax.set_xlabel("buffer size (MB)")
    ax.set_ylabel("time per allreduce (ms, median)")
    ax.set_title(f"Chapter 03: allreduce on {allreduce.get('ranks', '?')} ranks, measured vs predicted")
    ax.legend(fontsize=8.5)
    stamp(fig, data, source)
    save(fig, path)


def ch05_bubble(data, source, path):
    rows = data["bubble"]["rows"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    fig.subplots_adjust(bottom=0.24, top=0.86, wspace=0.08)
    for ax, kind, title in ((axes[0], "synthetic", "balanced synthetic stages"), (axes[1], "mlp", "the real MLP")):
        ps = sorted({r["p"] for r in rows if r["kind"] == kind})
        for i, p in enumerate(ps):
            cells = sorted((r for r in rows if r["kind"] == kind and r["p"] == p), key=lambda r: r["m"])
            ms = [r["m"] for r in cells]
            color = f"C{i}"
            ax.plot(ms, [r["predicted"] for r in cells], "--", color=color, linewidth=1)
            ax.plot(ms, [r["gpipe"] for r in cells], "o", color=color, markerfacecolor="none", label=f"p={p} GPipe")
            ax.plot(ms, [r["1f1b"] for r in cells], "x", color=color, label=f"p={p} 1F1B")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("micro-batches m")
        ax.set_title(title)
    axes[0].set_ylabel("bubble (idle share of stage time)")
    axes[0].legend(fontsize=7.5, ncol=2)
    fig.suptitle("Chapter 05: pipeline bubble, measured (markers) vs (p-1)/(m+p-1) (dashed)")
    stamp(fig, data, source)
    save(fig, path)


def ch07_accuracy(out):
    """Chapter 07: test accuracy vs averaging period per split, from its committed result file."""
    source = os.path.join("chapters", "07_uneven_data", "results_5ranks.jsonl")
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), source)
    try:
        with open(path) as f:
            runs = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        print(f"make_plots: note: {path}: {e}; keeping ch07_accuracy.png")
        return
    syncs = ["1", "4", "16", "64", "epoch", "once"]
    splits = [("random", "random (IID)"), ("stratified", "stratified"), ("by-class", "by-class, 2 classes per rank"),
              ("dirichlet", "Dirichlet, alpha = 0.1")]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    fig.subplots_adjust(bottom=0.27, top=0.86)
    for split, label in splits:
        acc = {r["sync"]: r["test_acc"] for r in runs if r["split"] == split}
        ax.plot(range(len(syncs)), [acc.get(s, float("nan")) for s in syncs], marker="o", label=label)
    mb = {r["sync"]: r["sync_bytes_per_rank"] / 1e6 for r in runs if r["split"] == "random"}
    ax.set_xticks(range(len(syncs)),
                  [("H = " + s if s not in ("epoch", "once") else s) + f"\n{mb.get(s, float('nan')):.0f} MB" for s in syncs])
    ax.set(ylabel="test accuracy", xlabel="averaging period (and MB sent per rank)",
           title="Chapter 07: local SGD on 5 ranks, 2 epochs — where label skew hurts")
    ax.legend(fontsize=8, loc="lower left")
    ranks = runs[0].get("ranks", "?") if runs else "?"
    stamp(fig, {"machine": {"cpu": "2-core Intel Xeon VM (chapters/07_uneven_data/README.md)", "nproc": 2,
                            "date": "2026-11-30", "mpi": f"{ranks} MPI ranks, oversubscribed"}}, source)
    save(fig, os.path.join(out, "ch07_accuracy.png"))


def ch06_memory(out):
    """Chapter 06: bytes per rank by kind for ZeRO 0 and 1 at dp 1, 2, 4, from its committed results."""
    source = os.path.join("chapters", "06_hybrid", "results.json")
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), source)
    try:
        with open(path) as f:
            data = json.load(f)
        rows = data["memory"]
    except (OSError, ValueError, KeyError) as e:
        print(f"make_plots: note: {path}: {e}; keeping ch06_memory.png")
        return
    kinds = [("params", "parameters"), ("grads", "gradients"), ("optimizer", "optimizer state (Adam m, v)"),
             ("activations", "activations (peak)"), ("comm", "ZeRO-1 gradient shard")]
    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    fig.subplots_adjust(bottom=0.2, top=0.86, right=0.68)
    labels = [f"dp {r['dp']}\nZeRO {r['zero']}" for r in rows]
    bottom = [0.0] * len(rows)
    for key, label in kinds:
        mib = [r["measured"][key] / 2**20 for r in rows]
        ax.bar(range(len(rows)), mib, bottom=bottom, label=label)
        bottom = [b + m for b, m in zip(bottom, mib)]
    ax.set_xticks(range(len(rows)), labels)
    ax.set(ylabel="MiB per rank (rank 0)", title="Chapter 06: memory per rank, 784-1024-1024-10, Adam")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    stamp(fig, data, source)
    save(fig, os.path.join(out, "ch06_memory.png"))


def placeholder(path, title, how):
    """A plot that says it has no data yet (only when no committed plot exists)."""
    fig = plt.figure(figsize=(7.5, 2.2))
    fig.text(0.5, 0.62, title, ha="center", fontsize=12)
    fig.text(0.5, 0.35, f"No measurement yet: {how}", ha="center", fontsize=9.5, color="#555555")
    save(fig, path)


# (output, input JSON, the keys it needs, the plot function, how to make the input)
PLOTS = [
    ("ch01_vs_pytorch.png", "chapters/01_serial/results.json", ["results"], ch01_vs_pytorch,
     "run ./tutorial bench 01 --record"),
    ("ch02_speedup.png", "chapters/02_openmp_data_parallel/results.json", ["amdahl"], ch02_speedup,
     "run ./tutorial bench 02 --record"),
    ("ch03_scaling.png", "chapters/03_mpi_data_parallel/results.json", ["throughput"], ch03_scaling,
     "run ./tutorial bench 03 --record"),
    ("ch03_allreduce.png", "chapters/03_mpi_data_parallel/results.json", ["allreduce"], ch03_allreduce,
     "run ./tutorial bench 03 --record"),
    ("ch05_bubble.png", "chapters/05_model_parallel/results.json", ["bubble"], ch05_bubble,
     "run ./tutorial bench 05 --record"),
]


def training_curves(build, out):
    """Loss and accuracy per epoch of each run of the tour (./tutorial run writes the metrics)."""
    import glob
    runs = []
    for path in sorted(glob.glob(os.path.join(build, "tour", "run*.jsonl"))):
        with open(path) as f:
            records = [json.loads(line) for line in f if line.strip()]
        epochs = [r for r in records if "epoch" in r and not r.get("final")]
        final = next((r for r in records if r.get("final")), {})
        if not epochs or not final:
            continue
        label = final.get("program", "?")
        if final.get("ranks"):
            label += f" {final['ranks']} ranks"
        elif final.get("threads"):
            label += f" {final['threads']} threads" + (" deterministic" if final.get("deterministic") else "")
        runs.append((label, epochs, path))
    if not runs:
        print(f"make_plots: note: no tour metrics in {build}/tour (./tutorial run); keeping training_curves.png")
        return
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    for label, epochs, _ in runs:
        xs = [r["epoch"] for r in epochs]
        loss_ax.plot(xs, [r["train_loss"] for r in epochs], marker=".", label=label)
        acc_ax.plot(xs, [r["test_acc"] for r in epochs], marker=".", label=label)
    loss_ax.set(xlabel="epoch", ylabel="train loss", title="Training loss")
    acc_ax.set(xlabel="epoch", ylabel="test accuracy", title="Test accuracy (target 0.885)")
    acc_ax.axhline(0.885, color=COLORS["predicted"], linestyle="--", linewidth=1)
    acc_ax.legend(fontsize=8, loc="lower right")
    fig.subplots_adjust(bottom=0.24, wspace=0.25)  # room for the machine stamp under the axes
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import datetime
    date = datetime.datetime.fromtimestamp(os.path.getmtime(runs[0][2])).strftime("%Y-%m-%d")
    stamp(fig, {"machine": {"cpu": cpu, "nproc": os.cpu_count(), "date": date}}, os.path.join(build, "tour"))
    save(fig, os.path.join(out, "training_curves.png"))


def main():
    parser = argparse.ArgumentParser(description="Plots for the site from the benchmarks' JSON.")
    parser.add_argument("--build", default="build/release", help="where the tour's metrics are (./tutorial run)")
    parser.add_argument("--out", default="docs/images", help="where the PNGs go")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    for name, source, keys, plot, how in PLOTS:
        out, path = os.path.join(args.out, name), os.path.join(ROOT, source)
        if not os.path.isfile(path):
            kept = "keeping the committed plot" if os.path.isfile(out) else "writing a placeholder"
            print(f"make_plots: note: {path} not found ({how.split(',')[0]}); {kept} for {name}")
            if not os.path.isfile(out):
                placeholder(out, name[:-4].replace("_", " "), how)
            continue
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            print(f"make_plots: {path}: cannot read it as JSON ({e})", file=sys.stderr)
            sys.exit(2)
        missing = [k for k in keys if not data.get(k)]
        if missing:
            print(f"make_plots: note: {path} has no {', '.join(missing)}; skipping {name}")
            if not os.path.isfile(out):
                placeholder(out, name[:-4].replace("_", " "), how)
            continue
        plot(data, source, out)
    training_curves(args.build, args.out)
    ch06_memory(args.out)
    ch07_accuracy(args.out)


if __name__ == "__main__":
    main()
