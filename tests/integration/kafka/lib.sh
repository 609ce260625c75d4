# Shared by the Kafka integration tests: the orders example as Kafka topics, pipelines that read
# and write them, and the checks that say a run's results equal a clean run's with nothing doubled.
# Needs KAFKA_TOOL (tests/integration/kafka/kafka_tool) and the kafka service.
source "$CANONRY_SOURCE_DIR/tests/integration/pipeline/lib.sh"
source "$CANONRY_SOURCE_DIR/scripts/services/env.sh" kafka
: "${KAFKA_TOOL:?the kafka_tool binary}"
KAFKA_SH="$CANONRY_SOURCE_DIR/scripts/services/kafka.sh"
HERE_KAFKA="$CANONRY_SOURCE_DIR/tests/integration/kafka"

# topic NAME PARTITIONS
topic() { "$KAFKA_TOOL" create "$CANONRY_KAFKA_BOOTSTRAP" "$1" "$2"; }

# kcat_lines FILE: the messages of `kcat -J` envelopes as kafka_tool lines, KEY<TAB>VALUE.
kcat_lines() {
  python3 "$HERE_KAFKA/check.py" kcat-lines "$1"
}

# make_inputs PREFIX DATA: topics PREFIX.shop_v1 (1 partition, no keys), PREFIX.shop_v2 and
# PREFIX.shop_v3 (6 partitions each, keyed as their envelopes say) for the files in DATA
# (shop_v1.jsonl, shop_v2.debezium.kcat.jsonl, shop_v3.kcat.jsonl), and the lines to produce
# into them as DATA/NAME.lines.
make_inputs() {
  local prefix=$1 data=$2
  topic "$prefix.shop_v1" 1
  topic "$prefix.shop_v2" 6
  topic "$prefix.shop_v3" 6
  sed 's/\t/ /g' "$data/shop_v1.jsonl" >"$data/shop_v1.lines"
  kcat_lines "$data/shop_v2.debezium.kcat.jsonl" >"$data/shop_v2.lines"
  kcat_lines "$data/shop_v3.kcat.jsonl" >"$data/shop_v3.lines"
}

# produce_inputs PREFIX DATA [RATE]: writes the three inputs (RATE messages/s each when given).
produce_inputs() {
  local prefix=$1 data=$2 rate=${3:-}
  local pids=() name
  for name in shop_v1 shop_v2 shop_v3; do
    "$KAFKA_TOOL" produce "$CANONRY_KAFKA_BOOTSTRAP" "$prefix.$name" ${rate:+--rate "$rate"} \
      <"$data/$name.lines" 2>/dev/null &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
}

# write_kafka_config FILE INPUT_PREFIX OUTPUT_PREFIX GROUP STATE RUNTIME [SOURCE_PROPERTIES]
# [SINK_PROPERTIES]: the three order sources from Kafka, events to OUTPUT_PREFIX.events and dead
# letters to OUTPUT_PREFIX.dlq (topics created here), state in STATE. PROPERTIES are URI query
# strings ("session.timeout.ms=6000&instance=a").
write_kafka_config() {
  local file=$1 input=$2 output=$3 group=$4 state=$5 runtime=$6 source_query=${7:-} sink_query=${8:-}
  local b=$CANONRY_KAFKA_BOOTSTRAP
  topic "$output.events" 6
  topic "$output.dlq" 1
  cat >"$file" <<YAML
name: orders
sources:
  - {name: shop_v1, uri: "kafka://$b/$input.shop_v1${source_query:+?$source_query}", format: json,
     group: $group, mapping: $EXAMPLE/mappings/shop_v1.json, schema: $EXAMPLE/schema/order.schema.json}
  - {name: shop_v2, uri: "kafka://$b/$input.shop_v2${source_query:+?$source_query}", format: debezium,
     group: $group, mapping: $EXAMPLE/mappings/shop_v2.json, schema: $EXAMPLE/schema/order.schema.json}
  - {name: shop_v3, uri: "kafka://$b/$input.shop_v3${source_query:+?$source_query}", format: json,
     group: $group, mapping: $EXAMPLE/mappings/shop_v3.json, schema: $EXAMPLE/schema/order.schema.json}
state: "$state"
events: "kafka://$b/$output.events${sink_query:+?$sink_query}"
dlq: "kafka://$b/$output.dlq${sink_query:+?$sink_query}"
runtime: $runtime
YAML
}

# read_outputs OUTPUT_PREFIX DIR: what a read_committed consumer sees of the events and DLQ
# topics, as DIR/events.tsv and DIR/dlq.tsv (PARTITION<TAB>KEY<TAB>VALUE<TAB>HEADERS, in offset
# order per partition).
read_outputs() {
  local output=$1 dir=$2
  mkdir -p "$dir"
  "$KAFKA_TOOL" consume "$CANONRY_KAFKA_BOOTSTRAP" "$output.events" --idle-ms 3000 | cut -f1,3- >"$dir/events.tsv"
  "$KAFKA_TOOL" consume "$CANONRY_KAFKA_BOOTSTRAP" "$output.dlq" --idle-ms 1000 | cut -f1,3- >"$dir/dlq.tsv"
}

# same_outputs CLEAN_DIR DIR: the events and dead letters equal a clean run's, each source
# message was written once (no duplicate for a read_committed consumer), and each output
# partition holds every source partition's events in source order.
same_outputs() {
  python3 "$HERE_KAFKA/check.py" no-duplicates "$2/events.tsv"
  python3 "$HERE_KAFKA/check.py" no-duplicates "$2/dlq.tsv"
  same "canonical events" "$1/events.tsv" "$2/events.tsv"
  # A dead letter names its source by URI, which differs between the runs' configs (instance=...).
  sed -E 's/"uri":"[^"]*",//' "$1/dlq.tsv" >"$1/dlq.compared"
  sed -E 's/"uri":"[^"]*",//' "$2/dlq.tsv" >"$2/dlq.compared"
  same "dead letters" "$1/dlq.compared" "$2/dlq.compared"
}

# same_state CLEAN_STATE STATE
same_state() {
  dump_state "$1" >"$work/clean.state"
  dump_state "$2" >"$work/faulted.state"
  if ! diff -q "$work/clean.state" "$work/faulted.state" >/dev/null; then
    echo "FAIL: state differs from a clean run" >&2
    diff "$work/clean.state" "$work/faulted.state" | head -10 >&2
    exit 1
  fi
  echo "ok: state equals a clean run's ($(wc -l <"$work/clean.state") entities)"
}

# wait_for_events OUTPUT_PREFIX COUNT SECONDS: until a read_committed consumer sees COUNT events.
wait_for_events() {
  local output=$1 count=$2 seconds=$3 got=0
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    got=$("$KAFKA_TOOL" consume "$CANONRY_KAFKA_BOOTSTRAP" "$output.events" --idle-ms 500 | wc -l)
    [ "$got" -ge "$count" ] && return 0
    sleep 1
  done
  echo "FAIL: $got of $count events within ${seconds}s" >&2
  return 1
}

# clean_run PREFIX KIND: the reference: one process, --until-end, on the complete input topics
# PREFIX.in.*, into PREFIX.clean.* and a fresh store; sets CLEAN_STATE and fills $work/clean.
# The instance is named after PREFIX: tests running at the same time on the shared broker must
# not share a transactional.id (canonry-orders-events-INSTANCE), or each fences the other.
clean_run() {
  local prefix=$1 kind=$2
  CLEAN_STATE=$(state_uri "$kind" clean "$work")
  write_kafka_config "$work/clean.yaml" "$prefix.in" "$prefix.clean" "$prefix.clean" "$CLEAN_STATE" \
    "{progress_interval: 0}" "instance=clean.$prefix" "instance=clean.$prefix"
  "$CANONRY" run --until-end "$work/clean.yaml"
  read_outputs "$prefix.clean" "$work/clean"
}

# stop_pipeline PID: SIGTERM (graceful: flush, commit, exit 0), and its exit status must be 0.
stop_pipeline() {
  kill -TERM "$1"
  if ! wait "$1"; then
    echo "FAIL: canonry run (pid $1) did not stop cleanly on SIGTERM" >&2
    exit 1
  fi
}

# still_running PID WHAT: fails the test when the pipeline died by itself.
still_running() {
  if ! kill -0 "$1" 2>/dev/null; then
    local status=0
    wait "$1" || status=$?
    echo "FAIL: canonry run ($2) exited by itself with status $status" >&2
    exit 1
  fi
}
