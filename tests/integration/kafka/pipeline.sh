#!/usr/bin/env bash
# Kafka → canonry → Kafka + state, on the orders example: the three sources as topics (Debezium
# with keys, updates that carry only updateDescription, deletes and tombstones; bad records for
# the DLQ), events and dead letters to topics through transactions. The events equal what
# `canonry map` makes of the same inputs, the state equals the file pipeline's golden entities,
# and a second run adds nothing. Usage: pipeline.sh KAFKA_TOOL sqlite|postgres
KAFKA_TOOL=$1
source "$(dirname "$0")/lib.sh"
kind=${2:?sqlite or postgres}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$work/data
example_inputs "$data"

prefix=pipeline.$kind.$$
make_inputs "$prefix.in" "$data"
produce_inputs "$prefix.in" "$data"
state=$(state_uri "$kind" kafka "$work")
write_kafka_config "$work/pipeline.yaml" "$prefix.in" "$prefix.out" "$prefix" "$state" \
  "{progress_interval: 0, checkpoint_interval: 100ms}" "instance=$kind" "instance=$kind"
"$CANONRY" run --until-end "$work/pipeline.yaml"
read_outputs "$prefix.out" "$work/out"
python3 "$HERE_KAFKA/check.py" no-duplicates "$work/out/events.tsv"

map_inputs "$data" "$work"
python3 "$HERE_KAFKA/check.py" as-map-output "$work/out/events.tsv" >"$work/events.jsonl"
same "events equal canonry map's output" "$work/map.events" "$work/events.jsonl"
# Dead letters: the same errors for the same records (their source and raw text name a topic and
# a message where canonry map names a file and a line).
error_of() { python3 -c 'import json,sys
for line in sys.stdin:
    value = line.rstrip("\n").split("\t")[2] if "\t" in line else line
    print(json.dumps(json.loads(value)["error"], sort_keys=True))' <"$1"; }
cat "$work"/map.*.dlq | error_of /dev/stdin >"$work/map.errors"
error_of "$work/out/dlq.tsv" >"$work/dlq.errors"
same "dead letters equal canonry map's" "$work/map.errors" "$work/dlq.errors"

dump_state "$state" >"$work/state.jsonl"
golden="$CANONRY_SOURCE_DIR/tests/integration/pipeline/expected/orders.state.jsonl"
if ! diff "$golden" "$work/state.jsonl" >/dev/null; then
  echo "FAIL: state differs from $golden:" >&2
  diff "$golden" "$work/state.jsonl" | head -20 >&2
  exit 1
fi
echo "ok: state equals the golden entities ($(wc -l <"$work/state.jsonl"))"

# A second run finds every position held (the group's offsets, written in the transactions, and
# the store's) and adds nothing.
"$CANONRY" run --until-end "$work/pipeline.yaml"
read_outputs "$prefix.out" "$work/again"
same "a second run adds no events" "$work/out/events.tsv" "$work/again/events.tsv"
same "a second run adds no dead letters" "$work/out/dlq.tsv" "$work/again/dlq.tsv"
dump_state "$state" | diff -q "$work/state.jsonl" - >/dev/null ||
  { echo "FAIL: a second run changed the state" >&2; exit 1; }
echo "ok: a second run changes nothing"
