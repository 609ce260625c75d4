#!/usr/bin/env bash
# A pipeline that keeps running (no --until-end) with its HTTP server: entities by key and
# Prometheus counters while it runs, then SIGTERM: exit 0 after flushing and committing, so that
# a second run finds everything held and adds nothing.
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
data=$work/data
mkdir -p "$data"
cp "$EXAMPLE/data/shop_v1.dirty.jsonl" "$data/shop_v1.jsonl"
cp "$EXAMPLE/data/shop_v2.debezium.kcat.jsonl" "$EXAMPLE/data/shop_v3.kcat.jsonl" "$data/"
write_config "$work/pipeline.yaml" "sqlite:$work/out/state.db" "$work/out" "$data" \
  "{checkpoint_interval: 100ms, progress_interval: 0}"

"$CANONRY" run "$work/pipeline.yaml" --listen 127.0.0.1:0 2>"$work/run.log" &
pid=$!
address=
for _ in $(seq 600); do
  address=$(sed -n 's/.*serving http:\/\/\([^ ]*\) .*/\1/p' "$work/run.log" | head -1)
  [ -n "$address" ] && break
  sleep 0.1
done
[ -n "$address" ] || { echo "FAIL: no server" >&2; cat "$work/run.log" >&2; exit 1; }

# Until all 600 lines are read and committed by every sink (committed position = file size).
committed=0
for _ in $(seq 1800); do
  committed=$(curl -sf "http://$address/metrics" |
    awk '/^canonry_source_committed_position/ {n++} END {print n+0}')
  dlq=$(curl -sf "http://$address/metrics" |
    awk '/^canonry_source_dlq_total/ {s += $2} END {print s+0}')
  [ "$committed" -eq 3 ] && [ "$dlq" -eq 8 ] && break
  sleep 0.1
done
metrics=$(curl -sf "http://$address/metrics")
grep -q '^canonry_source_received_total{pipeline="orders",source="shop_v2",partition="0"} 200$' \
  <<<"$metrics" || { echo "FAIL: /metrics lacks shop_v2's 200 received:" >&2; echo "$metrics" | head -20 >&2; exit 1; }
grep -q '^# TYPE canonry_sink_latency_seconds histogram$' <<<"$metrics" ||
  { echo "FAIL: /metrics has no latency histogram" >&2; exit 1; }
echo "ok: /metrics"

expected=$(grep '"order_id":"1000008"' "$CANONRY_SOURCE_DIR/tests/integration/pipeline/expected/orders.state.jsonl")
for _ in $(seq 50); do
  got=$(curl -s "http://$address/api/v1/entities/canonical.order.v1/1000008")
  [ "$got" = "$expected" ] && break
  sleep 0.1
done
[ "$got" = "$expected" ] || { echo "FAIL: entity 1000008: $got" >&2; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' "http://$address/api/v1/entities/canonical.order.v1/no-such-order")
[ "$status" = 404 ] || { echo "FAIL: a missing entity answered $status" >&2; exit 1; }
echo "ok: /api/v1/entities"

kill -TERM "$pid"
wait "$pid" || { echo "FAIL: SIGTERM exit status $?" >&2; cat "$work/run.log" >&2; exit 1; }
pid=
# Flushed on the way out: the events file's checkpoint covers every input to its end.
python3 - "$work/out/canonical.jsonl.positions" "$data" <<'PY' || exit 1
import json, os, sys
held = json.load(open(sys.argv[1]))["positions"]
files = {"shop_v1/0": "shop_v1.jsonl", "shop_v2/0": "shop_v2.debezium.kcat.jsonl",
         "shop_v3/0": "shop_v3.kcat.jsonl"}
for partition, name in files.items():
    size = os.path.getsize(os.path.join(sys.argv[2], name))
    if held.get(partition) != size:
        sys.exit(f"FAIL: after SIGTERM {partition} is held at {held.get(partition)}, not {size}")
PY
echo "ok: SIGTERM flushes everything and exits 0"
cp "$work/out/canonical.jsonl" "$work/events.before"
"$CANONRY" run --until-end "$work/pipeline.yaml"
same "nothing added after a graceful stop" "$work/events.before" "$work/out/canonical.jsonl"
