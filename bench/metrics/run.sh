#!/usr/bin/env bash
# The metrics benchmark: the hourly orders metric of orders_hourly.json (2 dimensions, count, sum,
# avg, min, max, count_distinct, quantile) over >= 1M canonical orders, by `canonry metrics` and by
# DuckDB (read_json + GROUP BY, the same file, the same number of threads) in one run; the rows are
# checked against DuckDB's exact aggregates and the ratio printed. Then the window operator alone
# (one core, only the adds timed: records parsed just before, and all parsed beforehand).
#
# Environment: CANONRY (default build/canonry), BENCH_METRICS_COUNT (orders, default 1000000),
# BENCH_SEED (default 42), BENCH_REPEAT (runs of each tool, best kept; default 3), BENCH_THREADS
# (default: the cores).
set -euo pipefail
cd "$(dirname "$0")/../.."

CANONRY=${CANONRY:-build/canonry}
OPERATOR_BENCH=${OPERATOR_BENCH:-$(dirname "$CANONRY")/canonry_metrics_bench}
COUNT=${BENCH_METRICS_COUNT:-1000000}
SEED=${BENCH_SEED:-42}
REPEAT=${BENCH_REPEAT:-3}
THREADS=${BENCH_THREADS:-$(nproc)}
OUT=bench/out/metrics
SPEC=bench/metrics/orders_hourly.json
PYTHON=bench/.venv/bin/python
mkdir -p "$OUT"

[ -x "$PYTHON" ] && "$PYTHON" -c 'import duckdb' 2>/dev/null ||
  { echo "bench/metrics: duckdb missing: run scripts/install-bench-deps.sh" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench/metrics: GNU time missing: run scripts/install-bench-deps.sh" >&2; exit 2; }
[ -x "$CANONRY" ] || { echo "bench/metrics: $CANONRY missing: run make" >&2; exit 2; }

# Canonical orders: shop_v1 documents from the generator, mapped by canonry map. Cached per count,
# seed, generator and mapping.
VERSION=$(cat examples/orders/generate.py examples/orders/mappings/shop_v1.json | sha256sum | cut -c1-12)
INPUT=$OUT/canonical.$COUNT.seed$SEED.$VERSION.jsonl
for stale in "$OUT"/canonical.*.jsonl; do
  if [[ -e "$stale" && "$stale" != "$INPUT" ]]; then rm -f "$stale"; fi
done
if [ ! -s "$INPUT" ]; then
  echo "bench/metrics: generating $COUNT orders (a few minutes)" >&2
  python3 examples/orders/generate.py --source shop_v1 --format json --count "$COUNT" \
    --seed "$SEED" --out "$OUT/raw.jsonl"
  "$CANONRY" map --spec examples/orders/mappings/shop_v1.json --format json --dlq "$OUT/map.dlq" \
    --out "$INPUT.tmp" "$OUT/raw.jsonl" 2>/dev/null
  mv "$INPUT.tmp" "$INPUT"
  rm -f "$OUT/raw.jsonl"
fi
INPUT_BYTES=$(stat -c %s "$INPUT")
INPUT_RECORDS=$(wc -l <"$INPUT")

source bench/lib.sh
run() { bench_run "$OUT" "$@"; }

rm -f "$OUT"/*.runs "$OUT"/*.rows "$OUT"/duckdb.query-seconds
status=0
for _ in $(seq "$REPEAT"); do
  run canonry "$CANONRY" metrics --spec "$SPEC" --threads "$THREADS" --dlq "$OUT/canonry.dlq" \
    --out "$OUT/canonry.rows" "$INPUT" 2>"$OUT/canonry.stderr" || status=1
  run duckdb "$PYTHON" bench/metrics/duckdb_peer.py "$INPUT" "$OUT/duckdb.rows" "$THREADS" approx \
    >>"$OUT/duckdb.query-seconds" || status=1
done
if [ -s "$OUT/canonry.dlq" ]; then
  echo "bench/metrics: canonry sent $(wc -l <"$OUT/canonry.dlq") records to the DLQ; none should go" >&2
  status=1
fi
# The check, not timed: canonry's rows against DuckDB's exact aggregates.
"$PYTHON" bench/metrics/duckdb_peer.py "$INPUT" "$OUT/duckdb-exact.rows" "$THREADS" exact >/dev/null
"$PYTHON" bench/metrics/compare.py "$OUT/canonry.rows" "$OUT/duckdb-exact.rows" || status=1

# The window operator alone, on one core, over the first 200000 records: parsed in batches just
# before they are added (as both drivers do), and all parsed beforehand (each record a cache
# miss); only the adds are timed, in CPU time.
head -200000 "$INPUT" >"$OUT/operator-input.jsonl"
operator_rate=n/a
operator_cold_rate=n/a
if [ -x "$OPERATOR_BENCH" ]; then
  "$OPERATOR_BENCH" "$OUT/operator-input.jsonl" "$SPEC" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_format=json >"$OUT/operator.json"
  rate() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print(next(b["items_per_second"] for b in d["benchmarks"]
           if b["name"].startswith(sys.argv[2]) and b.get("aggregate_name") == "median"))' \
      "$OUT/operator.json" "$1"
  }
  operator_rate=$(rate WindowOperator/batches/)
  operator_cold_rate=$(rate WindowOperator/parsed-beforehand/)
else
  echo "bench/metrics: $OPERATOR_BENCH missing (make builds it)" >&2
  status=1
fi

python3 - "$OUT" "$INPUT" "$INPUT_BYTES" "$INPUT_RECORDS" "$THREADS" "$operator_rate" \
  "$operator_cold_rate" <<'EOF' | tee "$OUT/results.txt"
import os, sys
out, path, size, records, threads, operator_rate, operator_cold_rate = sys.argv[1:8]
size, records = int(size), int(records)
import subprocess
duckdb_version = subprocess.run([os.path.join("bench", ".venv", "bin", "python"), "-c",
                                 "import duckdb; print(duckdb.__version__)"],
                                capture_output=True, text=True).stdout.strip()
best = {}
for name in ("canonry", "duckdb"):
    p = os.path.join(out, name + ".runs")
    if not os.path.exists(p):
        continue
    runs = [line.split() for line in open(p)]
    fastest = min(runs, key=lambda r: int(r[0]))
    best[name] = (int(fastest[0]) / 1000, float(fastest[2]) + float(fastest[3]),
                  max(int(r[1]) for r in runs), len(runs))
query = [float(x) for x in open(os.path.join(out, "duckdb.query-seconds"))] \
    if os.path.exists(os.path.join(out, "duckdb.query-seconds")) else []
print(f"\nmetrics benchmark: {path}: {size / 1e6:.1f} MB, {records} canonical orders, "
      f"{threads} threads, {os.cpu_count()} cores")
print(f"{'tool':<22} {'runs':>4} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'records/s':>10} "
      f"{'peak RSS MB':>11}")
labels = {"canonry": "canonry metrics", "duckdb": f"duckdb {duckdb_version}"}
for name, label in labels.items():
    if name not in best:
        print(f"{label:<22} {'-':>4} {'n/a':>7}")
        continue
    wall, cpu, rss, runs = best[name]
    print(f"{label:<22} {runs:>4} {wall:>7.2f} {cpu:>7.2f} {size / 1e6 / wall:>7.1f} "
          f"{records / wall:>10.0f} {rss / 1024:>11.1f}")
if query:
    print(f"{'duckdb (query only)':<22} {len(query):>4} {min(query):>7.2f}")
if len(best) == 2:
    c, d = best["canonry"], best["duckdb"]
    print(f"canonry speed-up over DuckDB: {d[0] / c[0]:.1f}x wall (process), "
          f"{min(query) / c[0]:.1f}x against DuckDB's query time alone, "
          f"{d[1] / max(c[1], 1e-3):.1f}x cpu (target: 3x)")
if operator_rate != "n/a":
    print(f"window operator alone, one core, records parsed just before: "
          f"{float(operator_rate) / 1e6:.2f}M records/s (target: 5M); all parsed beforehand: "
          f"{float(operator_cold_rate) / 1e6:.2f}M records/s")
print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
EOF
exit $status
