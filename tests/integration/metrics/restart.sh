#!/usr/bin/env bash
# kill -9 at random moments: a pipeline with `metrics:` over 60000 orders (some late, some that do
# not decode or map), killed ten times mid-run and restarted each time, ends with the rows and the
# late records `canonry metrics` gives for the same file: no partial counted twice or lost, the
# watermarks resumed. Usage: restart.sh sqlite|postgres|clickhouse
source "$(dirname "$0")/lib.sh"
kind=${1:?sqlite, postgres or clickhouse}
count=${CANONRY_RESTART_RECORDS:-60000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

python3 "$EXAMPLE/generate.py" --source shop_v1 --format json --count "$count" --seed 7 \
  --bad-fraction 0.01 --out generated.jsonl
python3 - <<'PY'
import random
lines = open("generated.jsonl", "rb").readlines()
rng = random.Random(11)
for i in range(0, len(lines) - 30, 9):
    if rng.random() < 0.4:
        j = i + rng.randrange(1, 30)
        lines[i], lines[j] = lines[j], lines[i]
open("orders.jsonl", "wb").writelines(lines)
PY
cat >specs.json <<'JSON'
[{"metricId": "orders_hourly", "time": "$.created_at", "window": {"type": "hopping", "size": "2h", "slide": "1h"},
  "dimensions": {"region": "$.region", "status": "$.status"},
  "measures": [{"name": "orders", "agg": "count"}, {"name": "revenue", "agg": "sum", "field": "$.total"},
               {"name": "min_total", "agg": "min", "field": "$.total"},
               {"name": "customers", "agg": "count_distinct", "field": "$.customer.email"},
               {"name": "p90_total", "agg": "quantile", "q": 0.9, "field": "$.total"}],
  "lateness": "5m"},
 {"metricId": "units_10m", "time": "$.created_at", "window": {"type": "tumbling", "size": "10m"},
  "dimensions": {"sku": "$.line_items[*].sku"},
  "measures": [{"name": "units", "agg": "sum", "field": "$.line_items[*].quantity"}], "lateness": "1m"}]
JSON
"$CANONRY" metrics --spec specs.json --map "$EXAMPLE/mappings/shop_v1.json" --dlq batch.dlq \
  orders.jsonl >batch.rows 2>>canonry.log
grep -q '"step":"late"' batch.dlq || { echo "FAIL: no late record, the test shows nothing" >&2; exit 1; }

runtime="{batch_messages: 200, checkpoint_interval: 50ms, progress_interval: 0}"
# An uninterrupted run gives the size of the events file that kill_loop.py measures progress by.
write_pipeline clean.yaml metrics-restart "$work/orders.jsonl" "$(store_uri "$kind" clean "$work")" clean \
  "$runtime"
"$CANONRY" run --until-end clean.yaml 2>>canonry.log

# Kills land at moments of progress, so that all ten land mid-run however fast the machine; if a
# run still finishes first, start over on a fresh store.
seed=${CANONRY_RESTART_SEED:-42}
for attempt in 1 2 3; do
  rm -rf out
  store=$(store_uri "$kind" "restart$attempt" "$work")
  write_pipeline pipeline.yaml metrics-restart "$work/orders.jsonl" "$store" out "$runtime"
  status=0
  python3 "$CANONRY_SOURCE_DIR/tests/integration/kill_loop.py" --times 10 --seed $((seed + attempt)) \
    --watch out/canonical.jsonl --total "$(stat -c %s clean/canonical.jsonl)" -- \
    "$CANONRY" run --until-end pipeline.yaml || status=$?
  [ "$status" -eq 3 ] || break
done
[ "$status" -eq 0 ] || { echo "FAIL: could not land ten kills mid-run" >&2; exit 1; }
"$CANONRY" run --until-end pipeline.yaml 2>>canonry.log

for metric in orders_hourly units_10m; do
  "$CANONRY" metrics dump --store "$store" --metric "$metric"
done >stream.rows
same "the rows after ten kills equal canonry metrics'" batch.rows stream.rows
# The metrics DLQ names the partition and carries the canonical record; compare the errors.
errors_of() {
  python3 -c 'import json,sys; [print(json.dumps(json.loads(l)["error"], sort_keys=True)) for l in open(sys.argv[1])]' "$1"
}
grep -E '"step":"(late|metrics)"' batch.dlq >batch.metric-dlq || true
errors_of batch.metric-dlq >batch.errors
errors_of out/metrics-dlq.jsonl >stream.errors
same "and so do the late records, none lost or doubled" batch.errors stream.errors
