#!/usr/bin/env bash
# kill -9 at random moments: a pipeline (three file sources with decode and validation failures,
# Debezium updates that need the stored raw document, deletes) killed at least ten times and
# restarted each time ends with the state, the canonical events and the dead letters of a clean
# run: nothing lost, nothing doubled. Usage: restart.sh sqlite|postgres
source "$(dirname "$0")/lib.sh"
kind=${1:?sqlite or postgres}
count=${CANONRY_RESTART_RECORDS:-20000}
work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

data=$work/data
generate_inputs "$data" "$count"

# Small batches and frequent checkpoints, so that kills land between checkpoints of every sink.
runtime="{batch_messages: 200, checkpoint_interval: 50ms, progress_interval: 0}"
clean_state=$(state_uri "$kind" clean "$work")
write_config "$work/clean.yaml" "$clean_state" "$work/clean" "$data" "$runtime"
"$CANONRY" run --until-end "$work/clean.yaml"
dump_state "$clean_state" >"$work/clean.state"

# Kills land at moments of progress (kill_loop.py), so that all ten land mid-run however fast
# the machine; if a run still finishes first, start over on fresh outputs.
RANDOM_SEED=${CANONRY_RESTART_SEED:-42}
for attempt in 1 2 3; do
  rm -rf "$work/faulted"
  faulted_state=$(state_uri "$kind" faulted "$work")
  write_config "$work/faulted.yaml" "$faulted_state" "$work/faulted" "$data" "$runtime"
  status=0
  python3 "$CANONRY_SOURCE_DIR/tests/integration/kill_loop.py" --times 10 \
    --seed $((RANDOM_SEED + attempt)) --watch "$work/faulted/canonical.jsonl" \
    --total "$(stat -c %s "$work/clean/canonical.jsonl")" -- \
    "$CANONRY" run --until-end "$work/faulted.yaml" || status=$?
  [ "$status" -eq 3 ] || break
done
[ "$status" -eq 0 ] || { echo "FAIL: could not land ten kills mid-run" >&2; exit 1; }
"$CANONRY" run --until-end "$work/faulted.yaml"

dump_state "$faulted_state" >"$work/faulted.state"
diff -q "$work/clean.state" "$work/faulted.state" >/dev/null ||
  { echo "FAIL: state after kills differs from a clean run" >&2;
    diff "$work/clean.state" "$work/faulted.state" | head -10 >&2; exit 1; }
echo "ok: state equals a clean run's ($(wc -l <"$work/clean.state") entities)"
same "canonical events" "$work/clean/canonical.jsonl" "$work/faulted/canonical.jsonl"
same "dead letters" "$work/clean/dlq.jsonl" "$work/faulted/dlq.jsonl"
