# Shared by the pipeline integration tests: the orders example as a pipeline config, and the
# comparisons that say two runs produced the same results.
set -euo pipefail
: "${CANONRY:?run through ctest, which sets CANONRY}"
: "${CANONRY_SOURCE_DIR:?run through ctest}"
EXAMPLE="$CANONRY_SOURCE_DIR/examples/orders"

# write_config FILE STATE_URI DIR DATA_DIR [RUNTIME]: the three order sources (files) into a state
# store, an events file and a DLQ file under DIR.
write_config() {
  local file=$1 state=$2 dir=$3 data=$4 runtime=${5:-"{progress_interval: 0}"}
  cat >"$file" <<YAML
name: orders
sources:
  - {name: shop_v1, uri: "file:$data/shop_v1.jsonl", format: json,
     mapping: $EXAMPLE/mappings/shop_v1.json, schema: $EXAMPLE/schema/order.schema.json}
  - {name: shop_v2, uri: "file:$data/shop_v2.debezium.kcat.jsonl", format: kcat,
     mapping: $EXAMPLE/mappings/shop_v2.json, schema: $EXAMPLE/schema/order.schema.json}
  - {name: shop_v3, uri: "file:$data/shop_v3.kcat.jsonl", format: kcat,
     mapping: $EXAMPLE/mappings/shop_v3.json, schema: $EXAMPLE/schema/order.schema.json}
state: "$state"
events: "file:$dir/canonical.jsonl"
dlq: "file:$dir/dlq.jsonl"
runtime: $runtime
YAML
}

# example_inputs DATA: the orders example's three inputs (with its dirty shop_v1 lines), under the
# file names write_config reads.
example_inputs() {
  local data=$1
  mkdir -p "$data"
  cp "$EXAMPLE/data/shop_v1.dirty.jsonl" "$data/shop_v1.jsonl"
  cp "$EXAMPLE/data/shop_v2.debezium.kcat.jsonl" "$EXAMPLE/data/shop_v3.kcat.jsonl" "$data/"
}

# generate_inputs DATA COUNT: COUNT records of each source, 1% of shop_v1 and shop_v2 bad (DLQ).
generate_inputs() {
  local data=$1 count=$2
  mkdir -p "$data"
  python3 "$EXAMPLE/generate.py" --source shop_v1 --format json --count "$count" --seed 7 \
    --bad-fraction 0.01 --out "$data/shop_v1.jsonl"
  python3 "$EXAMPLE/generate.py" --source shop_v2 --format kcat --count "$count" --seed 8 \
    --bad-fraction 0.01 --out "$data/shop_v2.debezium.kcat.jsonl"
  python3 "$EXAMPLE/generate.py" --source shop_v3 --format kcat --count "$count" --seed 9 \
    --out "$data/shop_v3.kcat.jsonl"
}

# map_inputs DATA WORK: what canonry map makes of each input of DATA, one command per source:
# WORK/map.events (the canonical events, deletes included) and WORK/map.SOURCE.dlq.
map_inputs() {
  local data=$1 work=$2 source name file
  for source in shop_v1:shop_v1.jsonl shop_v2:shop_v2.debezium.kcat.jsonl shop_v3:shop_v3.kcat.jsonl; do
    name=${source%%:*} file=${source#*:}
    "$CANONRY" map --spec "$EXAMPLE/mappings/$name.json" --validate "$EXAMPLE/schema/order.schema.json" \
      --emit-deletes --dlq "$work/map.$name.dlq" --out "$work/map.$name.out" "$data/$file" 2>/dev/null
  done
  cat "$work"/map.*.out >"$work/map.events"
}

# state_uri KIND NAME WORK: a fresh, empty store of that kind (sqlite, postgres: a new database
# on the postgres service).
state_uri() {
  local kind=$1 name=$2 work=$3
  case $kind in
    sqlite) echo "sqlite:$work/$name/state.db" ;;
    postgres)
      source "$CANONRY_SOURCE_DIR/scripts/services/env.sh" postgres
      local db="canonry_${name}_$$"
      PGOPTIONS="-c client_min_messages=warning" psql -q -d "$CANONRY_PG_URI" \
        -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >&2
      echo "${CANONRY_PG_URI%/*}/$db"
      ;;
    *) echo "unknown store kind $kind" >&2; return 1 ;;
  esac
}

dump_state() {
  "$CANONRY" state dump --store "$1" --subject canonical.order.v1
}

# same WHAT EXPECTED ACTUAL: the files hold the same lines (order aside: sources interleave
# differently from run to run), so none is missing and none is doubled.
same() {
  local what=$1 expected=$2 actual=$3
  if ! diff <(sort "$expected") <(sort "$actual") >/tmp/pipeline-diff.$$; then
    echo "FAIL: $what differs (expected $(wc -l <"$expected") lines, got $(wc -l <"$actual")):" >&2
    head -20 /tmp/pipeline-diff.$$ >&2
    rm -f /tmp/pipeline-diff.$$
    exit 1
  fi
  rm -f /tmp/pipeline-diff.$$
  echo "ok: $what ($(wc -l <"$actual") lines)"
}

# no_duplicates FILE: every line occurs once (canonical events of the example are all distinct).
no_duplicates() {
  local doubled
  doubled=$(sort "$1" | uniq -d | wc -l)
  if [ "$doubled" -ne 0 ]; then
    echo "FAIL: $1 has $doubled lines more than once" >&2
    exit 1
  fi
}
