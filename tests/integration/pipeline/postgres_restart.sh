#!/usr/bin/env bash
# PostgreSQL, holding the state and the metrics, restarted under a running pipeline (three file
# sources with decode and validation failures, Debezium updates that need the stored raw
# document, deletes; two metrics): stopped as a crash would once the pipeline has written a
# quarter of its events, kept down two seconds, started again. The run rides it out and ends with
# the state, the metric rows, the canonical events and the dead letters of a clean run. Then the
# server is stopped for good under another run with a short runtime.sink_retry_limit: that run
# must stop with exit status 1 and say why.
source "$(dirname "$0")/lib.sh"
PG_SH="$CANONRY_SOURCE_DIR/scripts/services/postgres.sh"
count=${CANONRY_RESTART_RECORDS:-20000}
work=$(mktemp -d)
pid=
cleanup() {
  [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
  "$PG_SH" stop "$work/services/postgres"
  rm -rf "$work"
}
trap cleanup EXIT

# A PostgreSQL of its own: restarting the shared one would cut the connections of the other tests
# that use it at the same time.
chmod 755 "$work"  # the server runs as the postgres user when the test runs as root
export CANONRY_SERVICES_DIR=$work/services
"$PG_SH" start "$CANONRY_SERVICES_DIR/postgres" >/dev/null

data=$work/data
generate_inputs "$data" "$count"

cat >"$work/metrics.json" <<'JSON'
[{"metricId": "orders_hourly", "source": "canonical.order.v1", "time": "$.created_at",
  "window": {"type": "tumbling", "size": "1h"}, "dimensions": {"status": "$.status"},
  "measures": [{"name": "orders", "agg": "count"}, {"name": "revenue", "agg": "sum", "field": "$.total"}],
  "lateness": "30m"},
 {"metricId": "skus_daily", "time": "$.created_at", "window": {"type": "tumbling", "size": "1d"},
  "dimensions": {"sku": "$.line_items[*].sku"},
  "measures": [{"name": "units", "agg": "sum", "field": "$.line_items[*].quantity"}]}]
JSON

# write_run_config NAME [RUNTIME]: the orders pipeline into a fresh state database and a fresh
# metrics database, outputs under $work/NAME; sets STATE and METRICS.
write_run_config() {
  local name=$1 runtime=${2:-"{batch_messages: 200, checkpoint_interval: 200ms, progress_interval: 0}"}
  rm -rf "$work/$name"
  STATE=$(state_uri postgres "$name" "$work")
  METRICS=$(state_uri postgres "${name}_metrics" "$work")
  write_config "$work/$name.yaml" "$STATE" "$work/$name" "$data" "$runtime"
  echo "metrics: {specs: [$work/metrics.json], store: \"$METRICS\"}" >>"$work/$name.yaml"
}
dump_metrics() {
  for metric in orders_hourly skus_daily; do
    "$CANONRY" metrics dump --store "$1" --metric "$metric"
  done
}

write_run_config clean
"$CANONRY" run --until-end "$work/clean.yaml"
dump_state "$STATE" >"$work/clean.state"
dump_metrics "$METRICS" >"$work/clean.rows"
total=$(stat -c %s "$work/clean/canonical.jsonl")

# wait_for_size FILE BYTES: until FILE has grown to BYTES, or the run ($pid) has ended.
wait_for_size() {
  while kill -0 "$pid" 2>/dev/null && [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
    sleep 0.01
  done
}

# The restart must land mid-run; if the run finished first (a fast machine), start over on fresh
# outputs.
landed=
for attempt in 1 2 3; do
  write_run_config faulted
  "$CANONRY" run --until-end "$work/faulted.yaml" 2>"$work/faulted.log" &
  pid=$!
  wait_for_size "$work/faulted/canonical.jsonl" $((total / 4))
  kill -0 "$pid" 2>/dev/null && landed=yes
  [ -z "$landed" ] || "$PG_SH" restart "$CANONRY_SERVICES_DIR/postgres" 2
  status=0
  wait "$pid" || status=$?
  pid=
  if [ "$status" -ne 0 ]; then
    echo "FAIL: canonry run exited with status $status through the PostgreSQL restart:" >&2
    tail -5 "$work/faulted.log" >&2
    exit 1
  fi
  [ -z "$landed" ] || break
done
[ -n "$landed" ] || { echo "FAIL: the run finished before the restart, three times" >&2; exit 1; }
echo "ok: canonry run rode out a PostgreSQL restart"

dump_state "$STATE" >"$work/faulted.state"
diff -q "$work/clean.state" "$work/faulted.state" >/dev/null ||
  { echo "FAIL: state after the restart differs from a clean run" >&2;
    diff "$work/clean.state" "$work/faulted.state" | head -10 >&2; exit 1; }
echo "ok: state equals a clean run's ($(wc -l <"$work/clean.state") entities)"
dump_metrics "$METRICS" >"$work/faulted.rows"
same "metric rows" "$work/clean.rows" "$work/faulted.rows"
same "canonical events" "$work/clean/canonical.jsonl" "$work/faulted/canonical.jsonl"
same "dead letters" "$work/clean/dlq.jsonl" "$work/faulted/dlq.jsonl"

# Gone for good: the run gives up after its retry limit, with exit status 1 and the reason.
write_run_config gone \
  "{batch_messages: 200, checkpoint_interval: 200ms, progress_interval: 0, sink_retry_limit: 2s}"
"$CANONRY" run --until-end "$work/gone.yaml" 2>"$work/gone.log" &
pid=$!
wait_for_size "$work/gone/canonical.jsonl" $((total / 4))
source "$CANONRY_SERVICES_DIR/postgres/env"
as_owner=()
[ "$(id -u)" -ne 0 ] || as_owner=(runuser -u postgres --)
"${as_owner[@]}" "$CANONRY_PG_CTL" -D "$CANONRY_PG_DATA" -m immediate -w stop >/dev/null
status=0
wait "$pid" || status=$?
pid=
if [ "$status" -eq 0 ]; then
  # The run finished before the server went: nothing was shown.
  echo "FAIL: the run ended before PostgreSQL was stopped" >&2
  exit 1
fi
[ "$status" -eq 1 ] || { echo "FAIL: exit status $status, expected 1" >&2; cat "$work/gone.log" >&2; exit 1; }
grep -q "runtime.sink_retry_limit is 2.0s" "$work/gone.log" ||
  { echo "FAIL: the error does not say the retry limit was spent:" >&2; cat "$work/gone.log" >&2; exit 1; }
echo "ok: with PostgreSQL gone the run stops: $(grep -m1 sink_retry_limit "$work/gone.log")"
