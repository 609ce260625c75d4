#!/usr/bin/env bash
# A file pipeline end to end on the orders example: files in, SQLite or PostgreSQL state, events and DLQ files
# out. The events and dead letters equal what `canonry map` makes of the same inputs, the state
# equals the golden entities, and a second run adds nothing. Usage: files.sh sqlite|postgres
source "$(dirname "$0")/lib.sh"
kind=${1:?sqlite or postgres}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$work/data
example_inputs "$data"

state=$(state_uri "$kind" files "$work")
write_config "$work/pipeline.yaml" "$state" "$work/out" "$data"
"$CANONRY" run --until-end "$work/pipeline.yaml"

map_inputs "$data" "$work"
same "events equal canonry map's output" "$work/map.events" "$work/out/canonical.jsonl"
no_duplicates "$work/out/canonical.jsonl"
# Dead letters name their source by URI in a pipeline and by path in canonry map: compare the rest.
strip_source() { sed -E 's/"source":\{[^}]*\},//' "$1"; }
cat "$work"/map.*.dlq | strip_source /dev/stdin >"$work/map.dlq"
strip_source "$work/out/dlq.jsonl" >"$work/dlq.stripped"
same "dead letters equal canonry map's" "$work/map.dlq" "$work/dlq.stripped"

dump_state "$state" >"$work/state.jsonl"
if ! diff "$here/expected/orders.state.jsonl" "$work/state.jsonl" >/dev/null; then
  echo "FAIL: state differs from expected/orders.state.jsonl:" >&2
  diff "$here/expected/orders.state.jsonl" "$work/state.jsonl" | head -20 >&2
  exit 1
fi
echo "ok: state equals the golden entities ($(wc -l <"$work/state.jsonl"))"

# A second run finds every position held and adds nothing anywhere.
cp "$work/out/canonical.jsonl" "$work/events.before"
"$CANONRY" run --until-end "$work/pipeline.yaml"
same "a second run adds no events" "$work/events.before" "$work/out/canonical.jsonl"
dump_state "$state" | diff -q "$work/state.jsonl" - >/dev/null ||
  { echo "FAIL: a second run changed the state" >&2; exit 1; }
echo "ok: a second run changes nothing"
