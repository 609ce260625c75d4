#!/usr/bin/env bash
# The pipeline benchmark: a file → SQLite state + events file pipeline over >= 100 MB of generated
# shop_v1 mongoexport lines, run by `canonry run --until-end` and by the same job written by hand in
# Python (pipeline.py: the map benchmark's hand-written mapping, sqlite3, one transaction per 2048
# records); checks that both stores hold the same entities and prints wall time, CPU time,
# records/s, peak RSS and canonry's speed-up.
#
# Environment: CANONRY (default build/canonry), BENCH_PIPELINE_SIZE (default 100M), BENCH_SEED
# (default 42), BENCH_REPEAT (runs of canonry, best kept; default 3).
set -euo pipefail
cd "$(dirname "$0")/../.."

CANONRY=${CANONRY:-build/canonry}
SIZE=${BENCH_PIPELINE_SIZE:-100M}
SEED=${BENCH_SEED:-42}
REPEAT=${BENCH_REPEAT:-3}
OUT=bench/out/pipeline
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || { echo "bench/pipeline: GNU time missing: run scripts/install-bench-deps.sh" >&2; exit 2; }

# The same cached input as bench/map (per size, seed and generator version).
GENERATOR_VERSION=$(sha256sum examples/orders/generate.py | cut -c1-12)
INPUT=bench/out/shop_v1.$SIZE.seed$SEED.$GENERATOR_VERSION.jsonl
if [ ! -s "$INPUT" ]; then
  echo "bench/pipeline: generating $INPUT" >&2
  python3 examples/orders/generate.py --source shop_v1 --format json --bytes "$SIZE" \
    --seed "$SEED" --out "$INPUT.tmp"
  mv "$INPUT.tmp" "$INPUT"
fi
INPUT_BYTES=$(stat -L -c %s "$INPUT")
INPUT_DOCS=$(wc -l <"$INPUT")
ABS_INPUT=$(realpath "$INPUT")

cat >"$OUT/pipeline.yaml" <<YAML
name: bench
sources:
  - {name: shop_v1, uri: "file:$ABS_INPUT", format: json,
     mapping: $PWD/examples/orders/mappings/shop_v1.json}
state: "sqlite:canonry/state.db"
events: "file:canonry/canonical.jsonl"
dlq: "file:canonry/dlq.jsonl"
runtime: {progress_interval: 0}
YAML

# run NAME COMMAND...: wall ms, then peak RSS KiB, user s, system s (GNU time), to $OUT/NAME.runs.
run() {
  local name=$1
  shift
  local start end
  start=$(date +%s%N)
  if ! /usr/bin/time -f '%M %U %S' -o "$OUT/$name.rss" "$@"; then
    echo "bench/pipeline: $name failed: $*" >&2
    return 1
  fi
  end=$(date +%s%N)
  echo "$(((end - start) / 1000000)) $(tail -1 "$OUT/$name.rss")" >>"$OUT/$name.runs"
}

rm -f "$OUT"/*.runs
status=0
for _ in $(seq "$REPEAT"); do
  rm -rf "$OUT/canonry"
  run canonry "$CANONRY" run --until-end "$OUT/pipeline.yaml" || { status=1; break; }
done
rm -rf "$OUT/python" && mkdir -p "$OUT/python"
run python python3 bench/pipeline/pipeline.py "$INPUT" "$OUT/python/state.db" \
  "$OUT/python/canonical.jsonl" || status=1

if [ -s "$OUT/canonry/dlq.jsonl" ]; then
  echo "bench/pipeline: canonry sent records to the DLQ; the input has none that should fail" >&2
  status=1
fi
if ((status == 0)); then
  for tool in canonry python; do
    "$CANONRY" state dump --store "sqlite:$OUT/$tool/state.db" --subject canonical.order.v1 \
      >"$OUT/$tool.state.jsonl"
  done
  python3 bench/map/compare.py "$OUT/canonry.state.jsonl" "$OUT/python.state.jsonl" || status=1
  python3 bench/map/compare.py "$OUT/canonry/canonical.jsonl" "$OUT/python/canonical.jsonl" ||
    status=1
fi

python3 - "$OUT" "$INPUT" "$INPUT_BYTES" "$INPUT_DOCS" <<'PY' | tee "$OUT/results.txt"
import os, sys
out, path, size, docs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
labels = {"canonry": "canonry run", "python": "python3 + sqlite3"}
best = {}
for name in labels:
    runs_path = os.path.join(out, name + ".runs")
    if os.path.exists(runs_path):
        runs = [line.split() for line in open(runs_path)]
        fastest = min(runs, key=lambda r: int(r[0]))
        best[name] = (int(fastest[0]) / 1000, max(int(r[1]) for r in runs), len(runs),
                      float(fastest[2]) + float(fastest[3]))
print(f"\npipeline benchmark (file -> SQLite state + events file): {path}: {size / 1e6:.1f} MB, "
      f"{docs} records, {os.cpu_count()} cores")
print(f"{'tool':<18} {'runs':>4} {'wall s':>8} {'cpu s':>7} {'records/s':>10} "
      f"{'records/cpu-s':>13} {'peak RSS MB':>11}  {'canonry speed-up (wall, cpu)':>28}")
for name, label in labels.items():
    if name not in best:
        print(f"{label:<18} {'-':>4} {'n/a':>8}")
        continue
    seconds, rss, runs, cpu = best[name]
    seconds, cpu = max(seconds, 1e-3), max(cpu, 1e-3)
    ratio = "-"
    if "canonry" in best and name != "canonry":
        ratio = (f"{seconds / max(best['canonry'][0], 1e-3):.1f}x, "
                 f"{cpu / max(best['canonry'][3], 1e-3):.1f}x")
    print(f"{label:<18} {runs:>4} {seconds:>8.2f} {cpu:>7.2f} {docs / seconds:>10.0f} "
          f"{docs / cpu:>13.0f} {rss / 1024:>11.1f}  {ratio:>28}")
PY
exit $status
