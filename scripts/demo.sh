#!/usr/bin/env bash
# `make demo`: the orders example (examples/orders) as a pipeline on embedded defaults: three
# shops' files in, canonical orders into SQLite state and an events file, failures into a DLQ file,
# the HTTP API on 127.0.0.1 while it runs. Then says where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
canonry=${1:-build/canonry}
out=var/demo
example=examples/orders
rm -rf "$out"
mkdir -p "$out"

echo "== checking the mapping specs against the canonical schema"
for spec in "$example"/mappings/*.json; do
  "$canonry" check --spec "$spec" --target-schema "$example/schema/order.schema.json"
done

echo "== canonry run $example/pipeline.yaml (serving on a free port of 127.0.0.1)"
"$canonry" run "$example/pipeline.yaml" --listen 127.0.0.1:0 2>"$out/run.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
address=
for _ in $(seq 100); do
  address=$(sed -n 's/.*serving http:\/\/\([^ ]*\) .*/\1/p' "$out/run.log" | head -1)
  [ -n "$address" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/run.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$address" ] || { echo "demo: the pipeline did not start serving" >&2; cat "$out/run.log" >&2; exit 1; }
# Wait until every line of the three inputs has been read and committed (lag 0 everywhere).
total=$(cat "$example"/data/shop_v1.dirty.jsonl "$example"/data/shop_v2.debezium.kcat.jsonl \
  "$example"/data/shop_v3.kcat.jsonl | grep -c .)
for _ in $(seq 200); do
  received=$(curl -s "http://$address/api/v1/pipeline" |
    python3 -c 'import json,sys; print(sum(p["received"] for p in json.load(sys.stdin)["partitions"]))')
  [ "$received" -ge "$total" ] && break
  sleep 0.1
done
echo "   read $received of $total input lines"
sleep 1.5  # one checkpoint interval: every sink has flushed what was read
key=$("$canonry" state dump --store "sqlite:$out/state.db" --subject canonical.order.v1 |
  python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["order_id"]); sys.stdin.read()')
echo
echo "== GET http://$address/api/v1/entities/canonical.order.v1/$key"
curl -s "http://$address/api/v1/entities/canonical.order.v1/$key"
echo
echo
echo "== GET http://$address/metrics (some of it)"
curl -s "http://$address/metrics" | grep -E '^canonry_source_(received|sent|dlq)_total' | head -6
echo
echo "== SIGTERM: the pipeline flushes, commits and exits 0"
kill -TERM "$pid"
wait "$pid"
trap - EXIT
tail -1 "$out/run.log"

echo
echo "Where to look:"
printf '  %-32s %6d canonical orders (state dump)\n' "$out/state.db" \
  "$("$canonry" state dump --store "sqlite:$out/state.db" --subject canonical.order.v1 | wc -l)"
printf '  %-32s %6d canonical events (upserts and deletes)\n' "$out/canonical.jsonl" "$(wc -l <"$out/canonical.jsonl")"
printf '  %-32s %6d dead letters\n' "$out/dlq.jsonl" "$(wc -l <"$out/dlq.jsonl")"
printf '  %-32s the run'"'"'s progress lines\n' "$out/run.log"
echo
echo "  $canonry state dump --store sqlite:$out/state.db --subject canonical.order.v1"
echo "  $canonry run $example/pipeline.yaml        # again: every position is held, nothing is added"
echo
echo "A dead letter (the record, the step, the reason, where it came from):"
head -1 "$out/dlq.jsonl"
