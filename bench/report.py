#!/usr/bin/env python3
"""The result table of a benchmark: the fastest of each tool's runs (OUT/NAME.runs, written by
bench_run of bench/lib.sh), its throughput by wall and by CPU time, and how many times faster
the first tool (canonry) is than each other one.

    report.py --out DIR --title TEXT --items N --item-name records [--bytes B] NAME=LABEL...
"""

import argparse
import os


def fastest_run(path):
    """(wall s, cpu s, peak RSS KiB, runs) of the run with the least wall time."""
    runs = [line.split() for line in open(path) if line.strip()]
    best = min(runs, key=lambda r: int(r[0]))
    return (int(best[0]) / 1000, float(best[2]) + float(best[3]), max(int(r[1]) for r in runs),
            len(runs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--items", type=int, required=True, help="items each run processes")
    parser.add_argument("--item-name", default="records")
    parser.add_argument("--bytes", type=int, help="input bytes each run reads, for MB/s")
    parser.add_argument("tools", nargs="+", metavar="NAME=LABEL")
    args = parser.parse_args()
    tools = [tool.split("=", 1) for tool in args.tools]
    best = {name: fastest_run(os.path.join(args.out, name + ".runs")) for name, _ in tools
            if os.path.exists(os.path.join(args.out, name + ".runs"))}
    reference = tools[0][0]
    item_rate, item_cpu_rate = f"{args.item_name}/s", f"{args.item_name}/cpu-s"
    width = max(18, *(len(label) + 1 for _, label in tools))
    print(f"\n{args.title}, {os.cpu_count()} cores")
    header = f"{'tool':<{width}} {'runs':>4} {'wall s':>8} {'cpu s':>7}"
    if args.bytes:
        header += f" {'MB/s':>7} {'MB/cpu-s':>8}"
    header += (f" {item_rate:>{len(item_rate) + 2}} {item_cpu_rate:>{len(item_cpu_rate) + 2}}"
               f" {'peak RSS MB':>11}  {reference + ' speed-up (wall, cpu)':>28}")
    print(header)
    for name, label in tools:
        if name not in best:
            print(f"{label:<{width}} {'-':>4} {'n/a':>8}")
            continue
        wall, cpu, rss, runs = best[name]
        wall, cpu = max(wall, 1e-3), max(cpu, 1e-3)
        line = f"{label:<{width}} {runs:>4} {wall:>8.2f} {cpu:>7.2f}"
        if args.bytes:
            line += f" {args.bytes / 1e6 / wall:>7.1f} {args.bytes / 1e6 / cpu:>8.1f}"
        ratio = "-"
        if reference in best and name != reference:
            ratio = (f"{wall / max(best[reference][0], 1e-3):.1f}x, "
                     f"{cpu / max(best[reference][1], 1e-3):.1f}x")
        line += (f" {args.items / wall:>{len(item_rate) + 2}.0f}"
                 f" {args.items / cpu:>{len(item_cpu_rate) + 2}.0f}"
                 f" {rss / 1024:>11.1f}  {ratio:>28}")
        print(line)


if __name__ == "__main__":
    main()
