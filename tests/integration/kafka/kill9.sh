#!/usr/bin/env bash
# kill -9 at random moments, ten times, while the input is still being written: a pipeline from
# three topics (decode and validation failures, Debezium updates that need the stored raw
# document, deletes) into Kafka events and DLQ topics and a state store, restarted after each
# kill under the same instance name, ends with the state, the events and the dead letters of a
# clean run, and a read_committed consumer sees no event twice.
# Usage: kill9.sh KAFKA_TOOL sqlite|postgres
KAFKA_TOOL=$1
source "$(dirname "$0")/lib.sh"
kind=${2:?sqlite or postgres}
count=${CANONRY_KAFKA_RECORDS:-20000}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

generate_inputs "$work/data" "$count"
prefix=kill9.$kind.$$
make_inputs "$prefix.in" "$work/data"
state=$(state_uri "$kind" faulted "$work")
# Small batches and frequent checkpoints, so that kills land between the checkpoints of every sink
# and inside open transactions.
write_kafka_config "$work/faulted.yaml" "$prefix.in" "$prefix.out" "$prefix" "$state" \
  "{batch_messages: 200, checkpoint_interval: 50ms, progress_interval: 0}" "instance=f" "instance=f"

produce_inputs "$prefix.in" "$work/data" 2000 &
producer=$!
pids+=("$producer")
RANDOM=${CANONRY_RESTART_SEED:-42}
for kill in $(seq 10); do
  "$CANONRY" run "$work/faulted.yaml" 2>>"$work/runs.log" &
  pid=$!
  pids+=("$pid")
  sleep "$((RANDOM % 2)).$(printf '%02d' $((RANDOM % 100)))"
  sleep 0.3
  still_running "$pid" "run $kill"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
done
echo "killed 10 times"
wait "$producer"
"$CANONRY" run --until-end "$work/faulted.yaml"
read_outputs "$prefix.out" "$work/faulted"

clean_run "$prefix" "$kind"
same_outputs "$work/clean" "$work/faulted"
same_state "$CLEAN_STATE" "$state"
