#!/usr/bin/env python3
"""Chapter 07's measured tables, generated from its committed result files (never typed twice).

    /usr/bin/python3 scripts/ch07_tables.py            print every table
    /usr/bin/python3 scripts/ch07_tables.py --write    put them into chapters/07_uneven_data/README.md
    /usr/bin/python3 scripts/ch07_tables.py --check    exit 1 if the README's tables differ (a test)

The README holds each table between `<!-- ch07_tables.py: NAME -->` and `<!-- end ch07_tables.py -->`.
The inputs are the JSON Lines records the chapter's benchmarks write (scripts/bench_ch07*.sh,
`./tutorial bench 07`), committed in chapters/07_uneven_data/results_*.jsonl. Exit codes: 0 done,
1 --check found a difference, 2 a missing or malformed input or marker.
"""
import json
import os
import statistics
import sys

import readme_tables  # same folder: the markers, --write, --check, --self-test

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHAPTER = os.path.join(ROOT, "chapters", "07_uneven_data")
# The splits as scripts/bench_ch07.sh runs them (by-class with --classes-per-rank 2, Dirichlet
# with --alpha 0.1), in the table's order.
SPLITS = [("random", "random"), ("stratified", "stratified"), ("by-class", "by-class, K = 2"),
          ("dirichlet", "Dirichlet, α = 0.1")]
SYNCS = ["1", "4", "16", "64", "epoch", "once"]
SYNC_HEADER = "| {} | H = 1 (gradients) | H = 4 | H = 16 | H = 64 | H = epoch | once |"


def fail(message):
    print(f"ch07_tables.py: {message}", file=sys.stderr)
    sys.exit(2)


def load(name):
    path = os.path.join(CHAPTER, name)
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, json.JSONDecodeError) as e:
        fail(f"{path}: {e}")


def one(records, what, **match):
    found = [r for r in records if all(r.get(k) == v for k, v in match.items())]
    if len(found) != 1:
        fail(f"{what}: {len(found)} records match {match} (want exactly 1)")
    return found[0]


def accuracy_table():
    runs = load("results_5ranks.jsonl")
    lines = [SYNC_HEADER.format("split"), "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for split, label in SPLITS:
        cells = [f"{one(runs, 'results_5ranks', split=split, sync=s)['test_acc']:.4f}" for s in SYNCS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def bytes_table():
    runs = load("results_5ranks.jsonl")
    rows = {s: one(runs, "results_5ranks", split="random", sync=s) for s in SYNCS}
    for split, _ in SPLITS:  # "the same for every split": checked, not assumed
        for s in SYNCS:
            if one(runs, "results_5ranks", split=split, sync=s)["sync_bytes_per_rank"] != rows[s]["sync_bytes_per_rank"]:
                fail(f"results_5ranks: split {split}, sync {s} sent other bytes than the random split")
    return [SYNC_HEADER.format(""), "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            "| averagings (allreduces) | " + " | ".join(str(rows[s]["syncs"]) for s in SYNCS) + " |",
            "| MB sent per rank (every split) | " +
            " | ".join(f"{rows[s]['sync_bytes_per_rank'] / 1e6:.1f}" for s in SYNCS) + " |"]


def local_resample_table():
    runs = load("results_local_resample.jsonl")
    lines = ["| split | H | `--class-balance` | test acc | macro-F1 |", "| --- | --- | --- | ---: | ---: |"]
    for split, label in SPLITS[3:] + SPLITS[2:3]:
        for sync in ("16", "epoch"):
            for balance in ("none", "resample"):
                d = one(runs, "results_local_resample", split=split, sync=sync,
                        class_balance=None if balance == "none" else balance)
                lines.append(f"| {label} | {sync} | {balance} | {d['test_acc']:.4f} | {d['macro_f1']:.4f} |")
    return lines


def imbalance_table():
    runs = load("results_imbalance.jsonl")
    lines = ["| training set | test acc | macro-F1 | recall per class 0..9 | seconds |",
             "| --- | ---: | ---: | --- | ---: |"]
    for d in runs:
        recall = " ".join(f"{r:.2f}" for r in d["recall"])
        lines.append(f"| {d['name']} | {d['test_acc']:.4f} | {d['macro_f1']:.4f} | {recall} | {d['seconds']:.1f} |")
    return lines


def straggler_table():
    """Medians over the repetitions; the prediction as scripts/bench_ch07_stragglers.sh states it."""
    runs = load("results_stragglers.jsonl")
    groups = {}
    for d in runs:
        p = d["phase_seconds"]
        groups.setdefault((d["slowdown"], d["balance_flag"]), []).append(
            (sum(p.values()) / d["steps"], (p.get("forward", 0) + p.get("backward", 0)) / d["steps"], d.get("last_parts")))
    if (1.0, "none") not in groups:
        fail("results_stragglers: no run with slowdown 1 and equal parts (the prediction's base)")
    med = {k: (statistics.median(v[0] for v in vs), statistics.median(v[1] for v in vs), vs[-1][2])
           for k, vs in groups.items()}
    t1, c = med[(1.0, "none")][0], med[(1.0, "none")][1]
    lines = ["| slowdown F | parts | measured step (ms) | predicted (ms) | parts of the last batch (rank 0, rank 1) |",
             "| ---: | --- | ---: | ---: | --- |"]
    for (f, b) in sorted(med, key=lambda k: (k[0], k[1] != "none")):
        t, _, parts = med[(f, b)]
        pred = t1 + ((f - 1) if b == "none" else (2 * f / (f + 1) - 1)) * c
        shown = ", ".join(map(str, parts)) if parts else "by who holds what (about half each)"
        lines.append(f"| {f:g} | {'equal' if b == 'none' else 'by speed'} | {t * 1e3:.2f} | {pred * 1e3:.2f} | {shown} |")
    return lines


TABLES = {"accuracy": accuracy_table, "bytes": bytes_table, "local-resample": local_resample_table,
          "imbalance": imbalance_table, "stragglers": straggler_table}


def main():
    return readme_tables.run("ch07_tables.py", TABLES, os.path.join(CHAPTER, "README.md"), __file__, __doc__,
                             "accuracy", r"0\.(\d{4})")


if __name__ == "__main__":
    sys.exit(main())
