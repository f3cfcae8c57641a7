#!/usr/bin/env python3
"""Turns vkindex-bench --json output into a PNG bar chart (gnuplot, Debian's gnuplot-nox):
GB/s and % of the in-run copy bound per workload and backend.

    python3 bench/plot.py results.json [more.json ...] -o results.png
"""
import argparse
import json
import os
import subprocess
import tempfile


def main():
    p = argparse.ArgumentParser()
    p.add_argument("json", nargs="+")
    p.add_argument("-o", "--output", default="vkindex-bench.png")
    args = p.parse_args()
    rows = []
    for path in args.json:
        with open(path) as f:
            rows += [r for r in json.load(f)["results"] if "cannot_run" not in r]
    series = []  # (backend label, {workload: row})
    for r in rows:
        label = f'{r["backend"]}: {r["device"]}'
        for name, d in series:
            if name == label:
                d[r["workload"]] = r
                break
        else:
            series.append((label, {r["workload"]: r}))
    workloads = []
    for r in rows:
        if r["workload"] not in workloads:
            workloads.append(r["workload"])
    with tempfile.TemporaryDirectory() as tmp:
        dat = os.path.join(tmp, "bench.dat")
        with open(dat, "w") as f:
            for w in workloads:
                cells = []
                for _, d in series:
                    r = d.get(w)
                    cells += [f'{r["gbps"]:.3f}', f'{100 * r["ratio"]:.1f}'] if r else ["NaN", "NaN"]
                f.write(w.replace("_", "\\\\_") + " " + " ".join(cells) + "\n")
        gbps = ", ".join(f"'{dat}' using {2 + 2 * i}:xtic(1) title '{name}'" for i, (name, _) in enumerate(series))
        pct = ", ".join(f"'{dat}' using {3 + 2 * i}:xtic(1) title '{name}'" for i, (name, _) in enumerate(series))
        script = f"""
set terminal pngcairo size 1400,900 font ',11'
set output '{args.output}'
set multiplot layout 2,1 title 'vkindex index\\_copy\\_ (bytes = 2 x source + index)'
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key outside right top
set xtics rotate by -20
set ylabel 'GB/s'
set logscale y
plot {gbps}
unset logscale y
set ylabel '% of copy bound (capped at 200)'
set yrange [0:200]
plot {pct}
unset multiplot
"""
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
