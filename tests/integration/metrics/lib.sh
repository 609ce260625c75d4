# Shared by the metrics integration tests: fresh stores of each kind and comparisons.
set -euo pipefail
: "${CANONRY:?run through ctest, which sets CANONRY}"
: "${CANONRY_SOURCE_DIR:?run through ctest}"
EXAMPLE="$CANONRY_SOURCE_DIR/examples/orders"
# The commands' stderr (summary lines) goes to canonry.log in the test's folder; when one fails,
# the test shows why.
trap 'status=$?; if [ -s canonry.log ]; then echo "FAIL (exit $status), canonry said:" >&2; tail -30 canonry.log >&2; fi' ERR

# store_uri KIND NAME WORK: a fresh, empty metrics store of that kind (a new database on the
# postgres or clickhouse service).
store_uri() {
  local kind=$1 name=$2 work=$3
  local db="canonry_metrics_${name}_$$"
  case $kind in
    sqlite) echo "sqlite:$work/$name.db" ;;
    postgres)
      source "$CANONRY_SOURCE_DIR/scripts/services/env.sh" postgres
      PGOPTIONS="-c client_min_messages=warning" psql -q -d "$CANONRY_PG_URI" \
        -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >&2
      echo "${CANONRY_PG_URI%/*}/$db"
      ;;
    clickhouse)
      # The store creates the database on first use.
      source "$CANONRY_SOURCE_DIR/scripts/services/env.sh" clickhouse
      echo "${CANONRY_CLICKHOUSE_URI%/*}/$db"
      ;;
    *) echo "unknown store kind $kind" >&2; return 2 ;;
  esac
}

# write_pipeline FILE NAME INPUT STORE OUT RUNTIME: a pipeline NAME mapping the shop_v1 orders of
# INPUT with the metrics of specs.json into STORE, its events and dead letters under OUT.
write_pipeline() {
  local file=$1 name=$2 input=$3 store=$4 out=$5 runtime=$6
  mkdir -p "$out"
  cat >"$file" <<YAML
name: $name
sources:
  - {name: shop_v1, uri: "file:$input", format: json, mapping: $EXAMPLE/mappings/shop_v1.json}
events: "file:$out/canonical.jsonl"
dlq: "file:$out/dlq.jsonl"
metrics: {specs: [specs.json], store: "$store", dlq: "file:$out/metrics-dlq.jsonl"}
runtime: $runtime
YAML
}

# same WHAT EXPECTED ACTUAL: fails with a diff unless the files are equal and not empty.
same() {
  local what=$1 expected=$2 actual=$3
  if [ ! -s "$expected" ]; then
    echo "FAIL: $what: $expected is empty" >&2
    exit 1
  fi
  if ! diff "$expected" "$actual" >/dev/null; then
    echo "FAIL: $what:" >&2
    diff "$expected" "$actual" | head -20 >&2
    exit 1
  fi
  echo "ok: $what ($(wc -l <"$actual") lines)"
}
