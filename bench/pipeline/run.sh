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

source bench/lib.sh
run() { bench_run "$OUT" "$@"; }

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

python3 bench/report.py --out "$OUT" --items "$INPUT_DOCS" --item-name records --bytes "$INPUT_BYTES" \
  --title "pipeline benchmark (file -> SQLite state + events file): $INPUT: $((INPUT_BYTES / 1000000)) MB, $INPUT_DOCS records" \
  "canonry=canonry run" "python=python3 + sqlite3" | tee "$OUT/results.txt"
exit $status
