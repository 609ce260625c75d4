#!/usr/bin/env bash
# Three processes in one consumer group share six-partition topics; one is killed -9 mid-run and
# never comes back. The other two take its partitions over (after its session times out, and its
# open transaction is aborted by the coordinator), and the results equal one clean process's.
# Usage: scaleout.sh KAFKA_TOOL sqlite|postgres
KAFKA_TOOL=$1
source "$(dirname "$0")/lib.sh"
kind=${2:?sqlite or postgres}
count=${CANONRY_KAFKA_RECORDS:-20000}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

generate_inputs "$work/data" "$count"
prefix=scaleout.$kind.$$
make_inputs "$prefix.in" "$work/data"
state=$(state_uri "$kind" faulted "$work")
runtime="{batch_messages: 500, checkpoint_interval: 100ms, progress_interval: 0}"
for instance in a b c; do
  write_kafka_config "$work/$instance.yaml" "$prefix.in" "$prefix.out" "$prefix" "$state" "$runtime" \
    "instance=$instance&session.timeout.ms=6000" "instance=$instance&transaction.timeout.ms=10000"
done

produce_inputs "$prefix.in" "$work/data" 2000 &
pids+=($!)
producer=$!
declare -A member
for instance in a b c; do
  "$CANONRY" run "$work/$instance.yaml" 2>>"$work/$instance.log" &
  member[$instance]=$!
  pids+=($!)
done
sleep 4
still_running "${member[b]}" b
kill -9 "${member[b]}"
echo "killed member b mid-run"
wait "$producer"

clean_run "$prefix" "$kind"
wait_for_events "$prefix.out" "$(wc -l <"$work/clean/events.tsv")" 120
for instance in a c; do
  still_running "${member[$instance]}" "$instance"
  stop_pipeline "${member[$instance]}"
done
read_outputs "$prefix.out" "$work/faulted"
same_outputs "$work/clean" "$work/faulted"
same_state "$CLEAN_STATE" "$state"
