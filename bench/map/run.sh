#!/usr/bin/env bash
# The mapping benchmark: the shop_v1 mapping of examples/orders over >= 100 MB of generated
# mongoexport lines, run by `canonry map`, by jq 1.6 (shop_v1.jq) and by hand-written Python
# (shop_v1.py); checks that the three outputs agree and prints a table of wall time, MB/s,
# documents/s, peak RSS and canonry's speed-up over each peer.
#
# Environment: CANONRY (default build/canonry), BENCH_MAP_SIZE (default 100M), BENCH_SEED
# (default 42), BENCH_REPEAT (runs of canonry, best kept; default 3), BENCH_COMPARE_LINES
# (compare only that many lines; default all).
set -euo pipefail
cd "$(dirname "$0")/../.."

CANONRY=${CANONRY:-build/canonry}
SIZE=${BENCH_MAP_SIZE:-100M}
SEED=${BENCH_SEED:-42}
REPEAT=${BENCH_REPEAT:-3}
OUT=bench/out/map
SPEC=examples/orders/mappings/shop_v1.json
mkdir -p "$OUT"

for tool in jq python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/map: $tool missing: run scripts/install-bench-deps.sh" >&2; exit 2; }
done
JQ_VERSION=$(jq --version)
[ "$JQ_VERSION" = "jq-1.6" ] || echo "bench/map: note: peer is $JQ_VERSION, the targets are stated against jq-1.6" >&2

# The input is cached per size, seed and generator version: generating 100 MB takes ~10 s.
GENERATOR_VERSION=$(sha256sum examples/orders/generate.py | cut -c1-12)
INPUT=bench/out/shop_v1.$SIZE.seed$SEED.$GENERATOR_VERSION.jsonl
for stale in bench/out/shop_v1.*.jsonl; do
  if [[ -e "$stale" && "$stale" != *".$GENERATOR_VERSION.jsonl" ]]; then rm -f "$stale"; fi
done
if [ ! -s "$INPUT" ]; then
  echo "bench/map: generating $INPUT" >&2
  python3 examples/orders/generate.py --source shop_v1 --format json --bytes "$SIZE" \
    --seed "$SEED" --out "$INPUT.tmp"
  mv "$INPUT.tmp" "$INPUT"
fi
INPUT_BYTES=$(stat -c %s "$INPUT")
INPUT_DOCS=$(wc -l <"$INPUT")

source bench/lib.sh
run() { bench_run "$OUT" "$@"; }

rm -f "$OUT"/*.runs "$OUT"/*.jsonl
status=0
have_canonry=0
if [ -x "$CANONRY" ] && "$CANONRY" map --help >/dev/null 2>&1; then
  have_canonry=1
  for _ in $(seq "$REPEAT"); do
    run canonry "$CANONRY" map --spec "$SPEC" --format json --dlq "$OUT/canonry.dlq.jsonl" \
      --out "$OUT/canonry.jsonl" "$INPUT" 2>"$OUT/canonry.stderr" || { status=1; have_canonry=0; break; }
  done
  if [ -s "$OUT/canonry.dlq.jsonl" ]; then
    echo "bench/map: canonry sent $(wc -l <"$OUT/canonry.dlq.jsonl") records to the DLQ ($OUT/canonry.dlq.jsonl); the input has none that should fail" >&2
    status=1
  fi
else
  echo "bench/map: $CANONRY has no 'map' command yet (make builds it): measuring the peers only" >&2
  status=1
fi
run jq sh -c 'exec jq -c -f bench/map/shop_v1.jq "$1" >"$2"' jq "$INPUT" "$OUT/jq.jsonl" || status=1
run python python3 bench/map/shop_v1.py "$INPUT" "$OUT/python.jsonl" || status=1

outputs=()
((have_canonry)) && outputs+=("$OUT/canonry.jsonl")
[ -f "$OUT/python.runs" ] && outputs+=("$OUT/python.jsonl")
[ -f "$OUT/jq.runs" ] && outputs+=("$OUT/jq.jsonl")
if ((${#outputs[@]} >= 2)); then
  limit=()
  [ -n "${BENCH_COMPARE_LINES:-}" ] && limit=(--limit "$BENCH_COMPARE_LINES")
  python3 bench/map/compare.py "${limit[@]}" "${outputs[@]}" || status=1
fi

python3 bench/report.py --out "$OUT" --items "$INPUT_DOCS" --item-name documents --bytes "$INPUT_BYTES" \
  --title "map benchmark: $INPUT: $((INPUT_BYTES / 1000000)) MB, $INPUT_DOCS documents" \
  "canonry=canonry map" "jq=$JQ_VERSION" "python=python3 (stdlib)" | tee "$OUT/results.txt"
exit $status
