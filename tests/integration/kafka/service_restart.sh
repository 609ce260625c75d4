#!/usr/bin/env bash
# A service restarted under a running pipeline: the Kafka broker (killed -9 and started again on
# the same port and data), or PostgreSQL holding the state (stopped as a crash would, kept down
# two seconds, started again; then once more without the pause). Each restart lands once the
# pipeline has visibly made progress, while the input is still being written. The pipeline rides
# it out (clients reconnect, transactional calls, store writes and lookups are retried) and ends
# with the results of a clean run, nothing doubled. Usage: service_restart.sh KAFKA_TOOL kafka|postgres
KAFKA_TOOL=$1
source "$(dirname "$0")/lib.sh"
service=${2:?kafka or postgres}
PG_SH="$CANONRY_SOURCE_DIR/scripts/services/postgres.sh"
count=${CANONRY_KAFKA_RECORDS:-20000}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [ "$service" != postgres ] || "$PG_SH" stop "$work/services/postgres"
  rm -rf "$work"
}
trap cleanup EXIT

kind=sqlite
if [ "$service" = postgres ]; then
  # A PostgreSQL of its own: restarting the shared one would cut the connections of the other
  # tests that use it at the same time, and they would have to run apart from this one.
  kind=postgres
  chmod 755 "$work"  # the server runs as the postgres user when the test runs as root
  export CANONRY_SERVICES_DIR=$work/services
  "$PG_SH" start "$CANONRY_SERVICES_DIR/postgres" >/dev/null
fi

# restart_service SECONDS_DOWN
restart_service() {
  case $service in
    kafka) "$KAFKA_SH" restart "$CANONRY_KAFKA_DIR" ;;
    postgres) "$PG_SH" restart "$CANONRY_SERVICES_DIR/postgres" "$1" ;;
  esac
}

generate_inputs "$work/data" "$count"
prefix=restart.$service.$$
make_inputs "$prefix.in" "$work/data"
state=$(state_uri "$kind" faulted "$work")
write_kafka_config "$work/faulted.yaml" "$prefix.in" "$prefix.out" "$prefix" "$state" \
  "{batch_messages: 500, checkpoint_interval: 100ms, progress_interval: 0}" "instance=r" "instance=r"

produce_inputs "$prefix.in" "$work/data" 2000 &
producer=$!
pids+=("$producer")
"$CANONRY" run "$work/faulted.yaml" 2>>"$work/run.log" &
pipeline=$!
pids+=("$pipeline")

# About a sixth of the events of a run: the input is written for a while yet.
wait_for_events "$prefix.out" $((count / 2)) 120
restart_service 2
echo "restarted $service mid-run"
if [ "$service" = postgres ]; then
  wait_for_events "$prefix.out" $((count * 3 / 2)) 120
  restart_service 0
  echo "restarted $service mid-run again, at once"
fi
wait "$producer"

clean_run "$prefix" "$kind"
wait_for_events "$prefix.out" "$(wc -l <"$work/clean/events.tsv")" 120 ||
  { tail -5 "$work/run.log" >&2; exit 1; }
still_running "$pipeline" "through the $service restart"
stop_pipeline "$pipeline"
read_outputs "$prefix.out" "$work/faulted"
same_outputs "$work/clean" "$work/faulted"
same_state "$CLEAN_STATE" "$state"
