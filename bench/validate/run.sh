#!/usr/bin/env bash
# Validation throughput: `canonry validate` over 1M small canonical order records (~310 bytes,
# generated here) against the canonical order schema of examples/orders. Every record is valid,
# so the run measures the validator's fast path plus reading and parsing. The same records go
# through Python's `jsonschema` (PyPI, installed into bench/.venv) on a sample, for the ratio
# (both parse JSON and validate). Prints records/s by CPU time.
#
# Environment: CANONRY (default build/canonry), BENCH_VALIDATE_RECORDS (default 1000000),
# BENCH_VALIDATE_PY_RECORDS (records given to jsonschema; default 50000), BENCH_REPEAT (runs of
# canonry, best kept; default 3).
set -euo pipefail
cd "$(dirname "$0")/../.."

CANONRY=${CANONRY:-build/canonry}
RECORDS=${BENCH_VALIDATE_RECORDS:-1000000}
PY_RECORDS=${BENCH_VALIDATE_PY_RECORDS:-50000}
REPEAT=${BENCH_REPEAT:-3}
SCHEMA=examples/orders/schema/order.schema.json
OUT=bench/out/validate
mkdir -p "$OUT"

INPUT=$OUT/orders.$RECORDS.jsonl
if [ ! -s "$INPUT" ]; then
  echo "bench/validate: generating $INPUT" >&2
  python3 - "$RECORDS" "$INPUT.tmp" <<'PY'
import json, random, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
statuses = ["pending", "paid", "shipped", "delivered", "cancelled"]
regions = ["EU", "NA", "LATAM", "APAC"]
with open(path, "w") as out:
    for i in range(n):
        items = [{"sku": "SKU-%04d" % rng.randrange(10000), "quantity": rng.randrange(1, 5),
                  "unit_price": round(rng.uniform(1, 200), 2)} for _ in range(rng.randrange(1, 4))]
        record = {"order_id": "ord-%d" % i, "source": "shop_v1", "status": rng.choice(statuses),
                  "customer": {"email": "user%d@example.com" % rng.randrange(100000)},
                  "line_items": items,
                  "total": round(sum(it["quantity"] * it["unit_price"] for it in items), 2),
                  "currency": "EUR", "created_at": "2024-03-%02dT10:15:00.000Z" % rng.randrange(1, 29),
                  "region": rng.choice(regions)}
        out.write(json.dumps(record, separators=(",", ":")) + "\n")
PY
  mv "$INPUT.tmp" "$INPUT"
fi
BYTES=$(stat -c %s "$INPUT")

# Wall time from the clock and CPU time (user + system, GNU time): the machine may be shared, and a
# busy neighbour stretches wall time, not the CPU time a run needs. Best of REPEAT runs.
best_ms=""
best_cpu_ms=""
for _ in $(seq "$REPEAT"); do
  start=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o "$OUT/canonry.time" \
    "$CANONRY" validate --schema "$SCHEMA" "$INPUT" >"$OUT/canonry.out" 2>"$OUT/canonry.err" || {
    echo "bench/validate: canonry validate failed or found invalid records:" >&2
    head -3 "$OUT/canonry.out" "$OUT/canonry.err" >&2
    exit 1
  }
  ms=$((($(date +%s%N) - start) / 1000000))
  cpu_ms=$(awk '{printf "%d", ($1 + $2) * 1000}' "$OUT/canonry.time")
  if [ -z "$best_ms" ] || [ "$ms" -lt "$best_ms" ]; then best_ms=$ms; fi
  if [ -z "$best_cpu_ms" ] || [ "$cpu_ms" -lt "$best_cpu_ms" ]; then best_cpu_ms=$cpu_ms; fi
done
canonry_rate=$(python3 -c "print(f'{$RECORDS / ($best_cpu_ms / 1000):.0f}')")
printf '%-28s %10s %10s %10s %14s %10s\n' tool records "wall ms" "cpu ms" "records/s cpu" "MB/s cpu"
printf '%-28s %10d %10d %10d %14s %10.1f\n' "canonry validate" "$RECORDS" "$best_ms" "$best_cpu_ms" \
  "$canonry_rate" "$(python3 -c "print($BYTES / 1e6 / ($best_cpu_ms / 1000))")"

VENV=bench/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import jsonschema" 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check jsonschema >&2 || true
fi
if "$VENV/bin/python" -c "import jsonschema" 2>/dev/null; then
  "$VENV/bin/python" - "$SCHEMA" "$INPUT" "$PY_RECORDS" "$canonry_rate" <<'PY'
import itertools, json, sys, time
from importlib.metadata import version
import jsonschema
schema_path, input_path, limit, canonry_rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
schema = json.load(open(schema_path))
validator = jsonschema.Draft202012Validator(schema)
with open(input_path) as f:
    lines = list(itertools.islice(f, limit))
wall, cpu = time.perf_counter(), time.process_time()
invalid = sum(not validator.is_valid(json.loads(line)) for line in lines)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
rate = len(lines) / cpu
print("%-28s %10d %10d %10d %14.0f %10s" % ("python jsonschema " + version("jsonschema"), len(lines),
                                           wall * 1000, cpu * 1000, rate, "-"))
print("canonry / jsonschema (records/s, cpu): %.0fx (jsonschema found %d invalid)" % (canonry_rate / rate, invalid))
PY
else
  echo "bench/validate: python jsonschema not available; no ratio" >&2
fi
