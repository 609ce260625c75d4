"""Compares canonry's metric rows with DuckDB's exact ones (bench/metrics): the same (window,
dimensions) rows, equal counts, sums, minima and maxima as decimals, averages within 1e-9
relative, and canonry's sketches within their stated errors of the exact values: count_distinct
(exact up to 1024 values, then HyperLogLog with 0.81 % standard error) within 3 %, the 0.95
quantile (DDSketch-style, 1 % relative accuracy) within 1 % of quantile_disc.

usage: compare.py CANONRY_ROWS DUCKDB_ROWS
"""
import json
import sys
from decimal import Decimal


def rows(path):
    out = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                row = json.loads(line, parse_float=Decimal)
                out[(row["window_start"], row["region"], row["status"])] = row
    return out


def close(a, b, relative):
    a, b = float(a), float(b)
    return abs(a - b) <= relative * max(abs(a), abs(b), 1e-12)


canonry, duck = rows(sys.argv[1]), rows(sys.argv[2])
problems = []
if canonry.keys() != duck.keys():
    problems.append(f"row keys differ: {len(canonry.keys() - duck.keys())} only in canonry, "
                    f"{len(duck.keys() - canonry.keys())} only in DuckDB")
for key in sorted(canonry.keys() & duck.keys(), key=str):
    c, d = canonry[key], duck[key]
    for name in ("orders", "revenue", "min_total", "max_total"):
        if Decimal(str(c[name])) != Decimal(str(d[name])):
            problems.append(f"{key} {name}: canonry {c[name]}, DuckDB {d[name]}")
    if not close(c["avg_total"], d["avg_total"], 1e-9):
        problems.append(f"{key} avg_total: canonry {c['avg_total']}, DuckDB {d['avg_total']}")
    if not close(c["customers"], d["customers"], 0.03):
        problems.append(f"{key} customers: canonry {c['customers']}, DuckDB {d['customers']}")
    if not close(c["p95_total"], d["p95_total"], 0.0100001):
        problems.append(f"{key} p95_total: canonry {c['p95_total']}, DuckDB {d['p95_total']}")
for p in problems[:20]:
    print("bench/metrics: " + p, file=sys.stderr)
if problems:
    print(f"bench/metrics: {len(problems)} differences in {len(canonry)} rows", file=sys.stderr)
    sys.exit(1)
print(f"rows agree: {len(canonry)} rows")
