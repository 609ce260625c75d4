#!/usr/bin/env bash
# Validation throughput: `canonry validate` over ~1M small canonical order records against the
# canonical order schema of examples/orders (every record valid, so the run measures the
# validator's fast path plus reading and parsing), and the same records through Python's
# `jsonschema` (PyPI, in bench/.venv) on a sample for the ratio. Prints records/s.
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

best_ms=""
for _ in $(seq "$REPEAT"); do
  start=$(date +%s%N)
  "$CANONRY" validate --schema "$SCHEMA" "$INPUT" >"$OUT/canonry.out" 2>"$OUT/canonry.err" || {
    echo "bench/validate: canonry validate failed or found invalid records:" >&2
    head -3 "$OUT/canonry.out" "$OUT/canonry.err" >&2
    exit 1
  }
  ms=$((($(date +%s%N) - start) / 1000000))
  if [ -z "$best_ms" ] || [ "$ms" -lt "$best_ms" ]; then best_ms=$ms; fi
done
canonry_rate=$(python3 -c "print(f'{$RECORDS / ($best_ms / 1000):.0f}')")
printf '%-28s %10s %12s %14s %10s\n' tool records "wall ms" "records/s" "MB/s"
printf '%-28s %10d %12d %14s %10.1f\n' "canonry validate" "$RECORDS" "$best_ms" "$canonry_rate" \
  "$(python3 -c "print($BYTES / 1e6 / ($best_ms / 1000))")"

VENV=bench/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import jsonschema" 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check jsonschema >&2 || true
fi
if "$VENV/bin/python" -c "import jsonschema" 2>/dev/null; then
  "$VENV/bin/python" - "$SCHEMA" "$INPUT" "$PY_RECORDS" "$canonry_rate" <<'PY'
import itertools, json, sys, time
import jsonschema
schema_path, input_path, limit, canonry_rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
schema = json.load(open(schema_path))
validator = jsonschema.Draft202012Validator(schema)
start = time.perf_counter()
count = invalid = 0
with open(input_path) as f:
    for line in itertools.islice(f, limit):
        if not validator.is_valid(json.loads(line)):
            invalid += 1
        count += 1
elapsed = time.perf_counter() - start
rate = count / elapsed
label = "python jsonschema " + jsonschema.__version__ if hasattr(jsonschema, "__version__") else "python jsonschema"
print("%-28s %10d %12d %14.0f %10s" % (label, count, elapsed * 1000, rate, "-"))
print("canonry / jsonschema: %.0fx (jsonschema invalid: %d)" % (canonry_rate / rate, invalid))
PY
else
  echo "bench/validate: python jsonschema not available; no ratio" >&2
fi
