#!/usr/bin/env python3
"""Chapter 05's measured tables, generated from its committed result file (never typed twice).

    /usr/bin/python3 scripts/ch05_tables.py            print every table
    /usr/bin/python3 scripts/ch05_tables.py --write    put them into chapters/05_model_parallel/README.md
    /usr/bin/python3 scripts/ch05_tables.py --check    exit 1 if the README's tables differ (a test)
    /usr/bin/python3 scripts/ch05_tables.py --self-test

The input is what scripts/bench_ch05.py writes (`./tutorial bench 05 --record`), committed as
chapters/05_model_parallel/results.json. The markers and flags are scripts/readme_tables.py's.
"""
import os
import sys

import readme_tables  # same folder: the markers, --write, --check, --self-test

TAG = "ch05_tables.py"
SOURCE = "chapters/05_model_parallel/results.json"


def results():
    return readme_tables.load(TAG, SOURCE, ["machine", "throughput", "bubble"])


def pct(x):
    return f"{100 * x:.1f}%"


def machine_table():
    r = results()
    b = r["bubble"]
    return readme_tables.machine_line(r, SOURCE) + [
        "", f"Bubble cells: the median of {b['repeats']} steps after a warm-up step, with min–max; the synthetic "
            f"stages sleep {b['forward_ms']:g} ms per forward and twice that per backward; the real MLP at batch "
            f"{b['batch']}."]


def bubble_table(kind):
    def make():
        rows = [x for x in results()["bubble"]["rows"] if x["kind"] == kind]
        if not rows:
            readme_tables.fail(TAG, f"{SOURCE}: no bubble rows of kind {kind}")
        head = "| p | m | predicted (p−1)/(m+p−1) | GPipe measured (min-max) | 1F1B measured (min-max) |"
        if kind == "mlp":
            head += " peak micro-batches per stage, GPipe / 1F1B | largest stage's activations, GPipe / 1F1B |"
        lines = [head, "|---:|---:|---:|---:|---:|" + ("---|---:|" if kind == "mlp" else "")]
        for x in rows:
            line = (f"| {x['p']} | {x['m']} | {pct(x['predicted'])} | {pct(x['gpipe'])} ({pct(x['gpipe_min'])}-"
                    f"{pct(x['gpipe_max'])}) | {pct(x['1f1b'])} ({pct(x['1f1b_min'])}-{pct(x['1f1b_max'])}) |")
            if kind == "mlp":
                peak = lambda v: "/".join(str(c) for c in v)  # noqa: E731
                line += (f" {peak(x['gpipe_peak'])} / {peak(x['1f1b_peak'])} | {x['gpipe_peak_mb']:.1f} / "
                         f"{x['1f1b_peak_mb']:.1f} MB |")
            lines.append(line)
        return lines
    return make


def throughput_table():
    rows = results()["throughput"]
    configs = list(dict.fromkeys((x["hidden"], x["batch"]) for x in rows))
    lines = ["| variant | " + " | ".join(f"784-{h.replace(',', '-')}-10, batch {b} | vs ch01" for h, b in configs) + " |",
             "|---|" + "---:|---:|" * len(configs)]
    for variant in dict.fromkeys(x["variant"] for x in rows):
        cells = []
        for h, _ in configs:
            x = next(y for y in rows if y["hidden"] == h and y["variant"] == variant)
            cells += [f"{x['median']:,.0f} ({x['min']:,.0f}-{x['max']:,.0f})", f"{x['vs_ch01']:.2f}x"]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return lines


TABLES = {"machine": machine_table, "bubble-synthetic": bubble_table("synthetic"), "bubble-mlp": bubble_table("mlp"),
          "throughput": throughput_table}


def main():
    return readme_tables.run(TAG, TABLES, os.path.join(readme_tables.ROOT, "chapters", "05_model_parallel", "README.md"),
                             __file__, __doc__, "throughput", r"\| [\d,]*(\d) \(")


if __name__ == "__main__":
    sys.exit(main())
