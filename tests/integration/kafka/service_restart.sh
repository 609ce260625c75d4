#!/usr/bin/env bash
# A service restarted mid-run under a running pipeline: the Kafka broker (killed -9 and started
# again on the same port and data) or PostgreSQL (the state store). The pipeline rides it out
# (clients reconnect, transactional calls and store writes are retried) and ends with the results
# of a clean run, nothing doubled. Usage: service_restart.sh KAFKA_TOOL kafka|postgres
KAFKA_TOOL=$1
source "$(dirname "$0")/lib.sh"
service=${2:?kafka or postgres}
kind=sqlite
[ "$service" = postgres ] && kind=postgres
count=${CANONRY_KAFKA_RECORDS:-20000}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

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
sleep 3
case $service in
  kafka) "$KAFKA_SH" restart "$CANONRY_KAFKA_DIR" ;;
  postgres)
    source "$CANONRY_SOURCE_DIR/scripts/services/env.sh" postgres
    as_owner=()
    [ "$(id -u)" -eq 0 ] && as_owner=(runuser -u postgres --)
    "${as_owner[@]}" "$CANONRY_PG_CTL" -D "$CANONRY_PG_DATA" -m fast -w restart >/dev/null
    ;;
esac
echo "restarted $service mid-run"
wait "$producer"

clean_run "$prefix" "$kind"
wait_for_events "$prefix.out" "$(wc -l <"$work/clean/events.tsv")" 120
still_running "$pipeline" "through the $service restart"
stop_pipeline "$pipeline"
read_outputs "$prefix.out" "$work/faulted"
same_outputs "$work/clean" "$work/faulted"
same_state "$CLEAN_STATE" "$state"
