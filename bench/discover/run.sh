#!/usr/bin/env bash
# The discovery benchmark (issue 3): `canonry discover` with full statistics over >= 100 MB of
# generated mongoexport lines (examples/orders shop_v1), on one core and on two, side by side
# with mongodb-schema (the analyzer inside MongoDB Compass, npm) and genson (PyPI) on the same
# file in the same run; then canonry alone on a 1 GB file made of copies of it, to show that
# memory follows the number of field paths and not the number of documents. Prints a table of
# wall and CPU time, MB/s, documents/s, peak RSS and canonry's speed-up over each peer.
#
# Environment: CANONRY (default build/canonry), BENCH_DISCOVER_SIZE (default 100M), BENCH_SEED
# (default 42), BENCH_REPEAT (runs of canonry, best kept; default 3), BENCH_DISCOVER_BIG (copies
# of the input in the memory run, 0 to skip; default 10).
set -euo pipefail
cd "$(dirname "$0")/../.."

CANONRY=${CANONRY:-build/canonry}
SIZE=${BENCH_DISCOVER_SIZE:-100M}
SEED=${BENCH_SEED:-42}
REPEAT=${BENCH_REPEAT:-3}
COPIES=${BENCH_DISCOVER_BIG:-10}
OUT=bench/out/discover
mkdir -p "$OUT"

for tool in node npm python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/discover: $tool missing" >&2; exit 2; }
done

# Peers, installed here and not committed (node_modules/ and bench/.venv are ignored).
if [ ! -d bench/discover/node_modules/mongodb-schema ] || [ ! -d bench/discover/node_modules/bson ]; then
  echo "bench/discover: installing mongodb-schema" >&2
  (cd bench/discover && npm install --no-save --no-audit --no-fund --silent mongodb-schema@12 bson@6 >&2)
fi
VENV=bench/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import genson' 2>/dev/null ||
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check genson >&2

# The input is shared with bench/map: cached per size, seed and generator version.
GENERATOR_VERSION=$(sha256sum examples/orders/generate.py | cut -c1-12)
INPUT=bench/out/shop_v1.$SIZE.seed$SEED.$GENERATOR_VERSION.jsonl
if [ ! -s "$INPUT" ]; then
  echo "bench/discover: generating $INPUT" >&2
  python3 examples/orders/generate.py --source shop_v1 --format json --bytes "$SIZE" \
    --seed "$SEED" --out "$INPUT.tmp.$$"
  mv "$INPUT.tmp.$$" "$INPUT"
fi

source bench/lib.sh
run() { bench_run "$OUT" "$@"; }

rm -f "$OUT"/*.runs
status=0
if "$CANONRY" discover --help >/dev/null 2>&1; then
  for _ in $(seq "$REPEAT"); do
    run canonry-1 "$CANONRY" discover --threads 1 --output profile --out "$OUT/canonry.profile.jsonl" \
      "$INPUT" 2>"$OUT/canonry.stderr" || status=1
    run canonry-2 "$CANONRY" discover --threads 2 --out "$OUT/canonry.schema.json" \
      "$INPUT" 2>"$OUT/canonry.stderr" || status=1
  done
else
  echo "bench/discover: $CANONRY has no 'discover' command (make builds it)" >&2
  status=1
fi
run mongodb-schema node --max-old-space-size=8192 bench/discover/mongodb_schema.js "$INPUT" \
  >"$OUT/mongodb-schema.out" || status=1
run genson "$VENV/bin/python" bench/discover/genson_peer.py "$INPUT" >"$OUT/genson.out" || status=1

BIG=""
if [ "$COPIES" -gt 0 ] && [ -f "$OUT/canonry-1.runs" ]; then
  BIG=$OUT/copies$COPIES.jsonl
  if [ ! -s "$BIG" ] || [ "$BIG" -ot "$INPUT" ]; then
    for _ in $(seq "$COPIES"); do cat "$INPUT"; done >"$BIG.tmp.$$"
    mv "$BIG.tmp.$$" "$BIG"
  fi
  run canonry-big-1 "$CANONRY" discover --threads 1 --output profile --out "$OUT/canonry.big.jsonl" \
    "$BIG" 2>"$OUT/canonry.big.stderr" || status=1
  run canonry-big-2 "$CANONRY" discover --threads 2 --output profile --out "$OUT/canonry.big2.jsonl" \
    "$BIG" 2>"$OUT/canonry.big.stderr" || status=1
fi

python3 - "$OUT" "$INPUT" "$BIG" <<'PY'
import os, sys
out, path, big = sys.argv[1], sys.argv[2], sys.argv[3]
size = os.path.getsize(path)
docs = sum(1 for line in open(path, "rb") if line.strip())

def best(name):
    try:
        runs = [list(map(float, l.split())) for l in open(f"{out}/{name}.runs") if l.strip()]
    except FileNotFoundError:
        return None
    wall, rss, user, system = min(runs, key=lambda r: r[0])
    return wall / 1000, user + system, rss / 1024

rows = [("canonry discover, 1 thread", "canonry-1", size, docs),
        ("canonry discover, 2 threads", "canonry-2", size, docs),
        ("mongodb-schema 12 (node)", "mongodb-schema", size, docs),
        ("genson 1.x (python)", "genson", size, docs)]
if big:
    copies = os.path.getsize(big) // size
    rows += [(f"canonry, {os.path.getsize(big) / 1e9:.1f} GB, 1 thread", "canonry-big-1", size * copies, docs * copies),
             (f"canonry, {os.path.getsize(big) / 1e9:.1f} GB, 2 threads", "canonry-big-2", size * copies, docs * copies)]
print(f"input: {path}: {size / 1e6:.1f} MB, {docs} documents")
print(f"{'tool':34} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'MB/s cpu':>9} {'docs/s':>10} {'RSS MB':>7}")
results = {}
for label, name, nbytes, ndocs in rows:
    r = best(name)
    if r is None:
        print(f"{label:34} (no run)")
        continue
    wall, cpu, rss = r
    results[name] = (wall, cpu)
    print(f"{label:34} {wall:7.2f} {cpu:7.2f} {nbytes / 1e6 / wall:7.1f} {nbytes / 1e6 / cpu:9.1f} "
          f"{ndocs / wall:10.0f} {rss:7.1f}")
for ours in ("canonry-1", "canonry-2"):
    for peer in ("mongodb-schema", "genson"):
        if ours in results and peer in results:
            w = results[peer][0] / results[ours][0]
            c = results[peer][1] / results[ours][1]
            print(f"{ours} vs {peer}: {w:.1f}x wall, {c:.1f}x cpu")
PY
exit $status
