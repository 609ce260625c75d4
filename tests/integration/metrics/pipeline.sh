#!/usr/bin/env bash
# Batch and streaming agree: the orders (shuffled a little, so that some records are late) through
# `canonry run` with `metrics:` give the same rows and the same late records as `canonry metrics`
# over the same file. The pipeline runs twice, the file growing in between, so the second run
# resumes from the stored partials, positions and watermarks; a third run changes nothing.
# Usage: pipeline.sh sqlite|postgres|clickhouse
source "$(dirname "$0")/lib.sh"
kind=${1:?sqlite, postgres or clickhouse}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

python3 - "$EXAMPLE/data/shop_v1.jsonl" <<'PY'
import random, sys
lines = open(sys.argv[1]).readlines()
rng = random.Random(3)
for i in range(0, len(lines) - 1, 7):
    if rng.random() < 0.5:
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
lines[100], lines[140] = lines[140], lines[100]
open("orders.jsonl", "w").writelines(lines)
PY
cat >specs.json <<'JSON'
[{"metricId": "orders_hourly", "source": "canonical.order.v1", "time": "$.created_at",
  "window": {"type": "hopping", "size": "2h", "slide": "1h"},
  "dimensions": {"region": "$.region", "status": "$.status"},
  "measures": [{"name": "orders", "agg": "count"}, {"name": "revenue", "agg": "sum", "field": "$.total"},
               {"name": "avg_total", "agg": "avg", "field": "$.total"},
               {"name": "min_total", "agg": "min", "field": "$.total"},
               {"name": "max_total", "agg": "max", "field": "$.total"},
               {"name": "customers", "agg": "count_distinct", "field": "$.customer.email"},
               {"name": "p90_total", "agg": "quantile", "q": 0.9, "field": "$.total"}],
  "lateness": "30m"},
 {"metricId": "orders_5m", "time": "$.created_at", "window": {"type": "tumbling", "size": "5m"},
  "dimensions": {"sku": "$.line_items[*].sku"},
  "measures": [{"name": "lines", "agg": "count"}, {"name": "units", "agg": "sum", "field": "$.line_items[*].quantity"}],
  "lateness": "1m"}]
JSON
store=$(store_uri "$kind" pipeline "$work")
write_pipeline pipeline.yaml metrics "$work/data.jsonl" "$store" "$work/out" "{progress_interval: 0}"

dump_all() {
  for metric in orders_hourly orders_5m; do
    "$CANONRY" metrics dump --store "$store" --metric "$metric"
  done
}
# Dead letters name their source by partition in a pipeline and by path in canonry metrics, and
# carry the canonical record there and the source bytes here: compare the errors.
errors_of() { python3 -c 'import json,sys; [print(json.dumps(json.loads(l)["error"], sort_keys=True)) for l in open(sys.argv[1])]' "$1"; }

head -120 orders.jsonl >data.jsonl
"$CANONRY" run --until-end pipeline.yaml 2>>canonry.log
cat orders.jsonl >data.jsonl
"$CANONRY" run --until-end pipeline.yaml 2>>canonry.log

"$CANONRY" metrics --spec specs.json --map "$EXAMPLE/mappings/shop_v1.json" --dlq batch.dlq \
  orders.jsonl >batch.rows 2>>canonry.log
dump_all >stream.rows
same "canonry run with metrics: stores the rows canonry metrics prints" batch.rows stream.rows
grep -q '"step":"late"' batch.dlq || { echo "FAIL: no late record, the test shows nothing" >&2; exit 1; }
errors_of batch.dlq >batch.errors
errors_of out/metrics-dlq.jsonl >stream.errors
same "and sends the same records to the DLQ as late" batch.errors stream.errors

"$CANONRY" run --until-end pipeline.yaml 2>>canonry.log
dump_all >again.rows
same "a third run changes no row" batch.rows again.rows
errors_of out/metrics-dlq.jsonl >again.errors
same "nor the metrics DLQ" batch.errors again.errors
