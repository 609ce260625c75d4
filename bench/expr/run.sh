#!/usr/bin/env bash
# The expression benchmark: mapping.jsonata (a raw shop order to a canonical order: lookups, case
# changes, numbers from strings, dates, totals) over generated raw orders, through
# `canonry expr -f` and through jsonata-js 2.x (npm `jsonata`, installed here by this script into
# the ignored bench/expr/node_modules); checks that both give the same values and prints
# documents per second of each and the ratio.
#
# Environment: CANONRY (default build/canonry), BENCH_EXPR_COUNT (default 100000), BENCH_SEED
# (default 42), BENCH_REPEAT (runs of canonry, best kept; default 3).
set -euo pipefail
cd "$(dirname "$0")/../.."

CANONRY=${CANONRY:-build/canonry}
COUNT=${BENCH_EXPR_COUNT:-100000}
SEED=${BENCH_SEED:-42}
REPEAT=${BENCH_REPEAT:-3}
OUT=bench/out/expr
EXPR=bench/expr/mapping.jsonata
mkdir -p "$OUT"

[ -x "$CANONRY" ] || { echo "bench/expr: $CANONRY missing: run make" >&2; exit 2; }
for tool in node npm python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/expr: $tool missing" >&2; exit 2; }
done
if [ ! -f bench/expr/node_modules/jsonata/package.json ]; then
  echo "bench/expr: installing jsonata@2 into bench/expr/node_modules" >&2
  (cd bench/expr && npm install --no-save --silent jsonata@2 >&2)
fi
JSONATA_VERSION=$(node -p "require('./bench/expr/node_modules/jsonata/package.json').version")

GENERATOR_VERSION=$(sha256sum bench/expr/generate.py | cut -c1-12)
INPUT=$OUT/orders.$COUNT.seed$SEED.$GENERATOR_VERSION.jsonl
if [ ! -s "$INPUT" ]; then
  echo "bench/expr: generating $INPUT" >&2
  python3 bench/expr/generate.py --count "$COUNT" --seed "$SEED" --out "$INPUT.tmp"
  mv "$INPUT.tmp" "$INPUT"
fi

# Prints "wall user sys" seconds of a command, its output going to $2.
measure() {
  local out=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$OUT/time.txt" "$@" >"$out"
  cat "$OUT/time.txt"
}

best_wall=""
best_cpu=""
for ((i = 0; i < REPEAT; i++)); do
  read -r wall user sys < <(measure "$OUT/canonry.jsonl" "$CANONRY" expr -f "$EXPR" "$INPUT")
  cpu=$(python3 -c "print($user + $sys)")
  if [ -z "$best_wall" ] || python3 -c "import sys; sys.exit(0 if $wall < $best_wall else 1)"; then
    best_wall=$wall
  fi
  if [ -z "$best_cpu" ] || python3 -c "import sys; sys.exit(0 if $cpu < $best_cpu else 1)"; then
    best_cpu=$cpu
  fi
done
read -r js_wall js_user js_sys < <(measure /dev/null env TZ=UTC node bench/expr/jsonata_peer.js \
  "$EXPR" "$INPUT" "$OUT/jsonata-js.jsonl")
js_cpu=$(python3 -c "print($js_user + $js_sys)")

python3 bench/expr/compare.py "$OUT/canonry.jsonl" "$OUT/jsonata-js.jsonl"

python3 - "$COUNT" "$best_wall" "$best_cpu" "$js_wall" "$js_cpu" "$JSONATA_VERSION" <<'PY'
import sys
count = int(sys.argv[1])
c_wall, c_cpu, j_wall, j_cpu = (float(x) for x in sys.argv[2:6])
version = sys.argv[6]
rows = [("canonry expr", c_wall, c_cpu), (f"jsonata-js {version} (node)", j_wall, j_cpu)]
print(f"{'tool':<28} {'docs':>8} {'wall s':>8} {'cpu s':>8} {'docs/s wall':>12} {'docs/s cpu':>11}")
for name, wall, cpu in rows:
    print(f"{name:<28} {count:>8} {wall:>8.2f} {cpu:>8.2f} {count / max(wall, 1e-9):>12.0f} "
          f"{count / max(cpu, 1e-9):>11.0f}")
print(f"canonry / jsonata-js: {j_wall / max(c_wall, 1e-9):.1f}x (wall), "
      f"{j_cpu / max(c_cpu, 1e-9):.1f}x (cpu)")
PY
