#!/usr/bin/env python3
"""Chapter 06's measured tables, generated from its committed result file (never typed twice).

    /usr/bin/python3 scripts/ch06_tables.py            print every table
    /usr/bin/python3 scripts/ch06_tables.py --write    put them into chapters/06_hybrid/README.md
    /usr/bin/python3 scripts/ch06_tables.py --check    exit 1 if the README's tables differ (a test)
    /usr/bin/python3 scripts/ch06_tables.py --self-test

The input is what scripts/bench_ch06.py writes (`./tutorial bench 06`), committed as
chapters/06_hybrid/results.json. The markers and flags are scripts/readme_tables.py's.
"""
import json
import os
import sys

import readme_tables  # same folder: the markers, --write, --check, --self-test

TAG = "ch06_tables.py"
CHAPTER = os.path.join(readme_tables.ROOT, "chapters", "06_hybrid")
WIDE = "1024,1024"


def results():
    path = os.path.join(CHAPTER, "results.json")
    try:
        with open(path) as f:
            r = json.load(f)
        r["throughput"], r["traffic"], r["memory"], r["machine"]  # noqa: B018 (the keys must exist)
        return r
    except (OSError, json.JSONDecodeError, KeyError) as e:
        readme_tables.fail(TAG, f"{path}: {e}")


def machine_table():
    m = results()["machine"]
    return [f"Measured on {m['cpu']}, {m['nproc']} cores, {m['date'][:10]}; load average "
            f"{m['loadavg_at_start']:.1f} at the start (a shared machine); "
            f"{results()['repeats']} interleaved repeats per variant."]


def throughput_table(hidden):
    def make():
        rows = [r for r in results()["throughput"] if r["hidden"] == hidden]
        if not rows:
            readme_tables.fail(TAG, f"no throughput rows for hidden {hidden}")
        lines = [f"784-{hidden.replace(',', '-')}-10, global batch {rows[0]['batch']}:", "",
                 "| variant | ranks | samples/s, median (min-max) | vs ch01 | vs ch01 per core used |",
                 "|---|---:|---:|---:|---:|"]
        for r in rows:
            over = " (oversubscribed)" if r["ranks"] > r["cores_used"] else ""
            lines.append(f"| {r['variant']} | {r['ranks']}{over} | {r['median']:,.0f} ({r['min']:,.0f}-{r['max']:,.0f}) | "
                         f"{r['vs_ch01']:.2f}x | {r['vs_ch01'] / r['cores_used']:.2f} |")
        return lines
    return make


def traffic_table():
    lines = ["| grid (784-1024-1024-10, batch 256) | rank 0 at (dp, pp, tp) | tp: measured / formula | "
             "pp: measured / formula | dp payload: measured / formula | dp on the wire, ring: 2(p-1)/p x payload |",
             "|---|---|---:|---:|---:|---:|"]
    kib = lambda b: f"{b / 1024:,.0f} KiB"  # noqa: E731
    for t in results()["traffic"]:
        if t["hidden"] != WIDE or t["rank"] != 0:
            continue
        variant = t["variant"]
        dp = 4 if variant.startswith("dp 4") else 2 if variant.startswith("dp 2") else 1
        m, f = t["measured"], t["formula"]
        cells = [f"{kib(m[g])} / {kib(f[g])}" for g in ("tp", "pp", "dp")]
        lines.append(f"| {variant} | {tuple(int(c) for c in t['coords'])} | {' | '.join(cells)} | "
                     f"{kib(2 * (dp - 1) / dp * m['dp'])} |")
    return lines


def memory_table():
    mib = lambda b: f"{b / 2**20:.2f}"  # noqa: E731
    lines = ["| dp | ZeRO | parameters | gradients | optimizer state (Adam: m, v) | activations (peak) | "
             "ZeRO buffer | total | measured = formula |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for m in results()["memory"]:
        me, fo = m["measured"], m["formula"]
        kinds = ("params", "grads", "optimizer", "activations", "comm")
        same = "yes" if all(me[k] == fo[k] for k in kinds) else "NO"
        lines.append(f"| {m['dp']} | {m['zero']} | " + " | ".join(mib(me[k]) for k in kinds) +
                     f" | {mib(sum(me[k] for k in kinds))} | {same} |")
    return lines


TABLES = {"machine": machine_table, "throughput-small": throughput_table("256,128"),
          "throughput-wide": throughput_table(WIDE), "traffic": traffic_table, "memory": memory_table}


def main():
    return readme_tables.run(TAG, TABLES, os.path.join(CHAPTER, "README.md"), __file__, __doc__, "throughput-small",
                             r"\| [\d,]*(\d) \(")


if __name__ == "__main__":
    sys.exit(main())
