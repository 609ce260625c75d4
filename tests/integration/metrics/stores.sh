#!/usr/bin/env bash
# A metrics store end to end: a backfill of two inputs dumps the rows `canonry metrics` prints,
# re-running it changes nothing, re-running one input with changed records replaces that input's
# rows (groups it no longer produces disappear), another spec under the same id is refused, and
# an unknown metric is an error. Usage: stores.sh sqlite|postgres|clickhouse
source "$(dirname "$0")/lib.sh"
kind=${1:?sqlite, postgres or clickhouse}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

head -120 "$EXAMPLE/data/shop_v1.jsonl" >part1.jsonl
tail -80 "$EXAMPLE/data/shop_v1.jsonl" >part2.jsonl
cat >specs.json <<'JSON'
[{"metricId": "orders_hourly", "time": "$.created_at", "window": {"type": "hopping", "size": "2h", "slide": "1h"},
  "dimensions": {"region": "$.region", "status": "$.status"},
  "measures": [{"name": "orders", "agg": "count"}, {"name": "revenue", "agg": "sum", "field": "$.total"},
               {"name": "avg_total", "agg": "avg", "field": "$.total"},
               {"name": "min_total", "agg": "min", "field": "$.total"},
               {"name": "max_total", "agg": "max", "field": "$.total"},
               {"name": "customers", "agg": "count_distinct", "field": "$.customer.email"},
               {"name": "p90_total", "agg": "quantile", "q": 0.9, "field": "$.total"}],
  "lateness": "1d"},
 {"metricId": "units_by_sku", "time": "$.created_at", "window": {"type": "tumbling", "size": "1d"},
  "dimensions": {"sku": "$.line_items[*].sku"},
  "measures": [{"name": "units", "agg": "sum", "field": "$.line_items[*].quantity"}], "lateness": "1d"}]
JSON
map=(--map "$EXAMPLE/mappings/shop_v1.json")
store=$(store_uri "$kind" stores "$work")

dump_all() {
  for metric in orders_hourly units_by_sku; do
    "$CANONRY" metrics dump --store "$store" --metric "$metric"
  done
}

"$CANONRY" metrics --spec specs.json "${map[@]}" part1.jsonl part2.jsonl >expected.rows 2>>canonry.log
"$CANONRY" metrics --spec specs.json "${map[@]}" --store "$store" part1.jsonl part2.jsonl \
  >backfill.rows 2>>canonry.log
same "a backfill prints the rows of canonry metrics" expected.rows backfill.rows
dump_all >dump1.rows
same "the store dumps the same rows, partials of two inputs merged" expected.rows dump1.rows

"$CANONRY" metrics --spec specs.json "${map[@]}" --store "$store" part1.jsonl part2.jsonl \
  >/dev/null 2>&1
dump_all >dump2.rows
same "re-running the backfill replaces its rows instead of adding to them" expected.rows dump2.rows

# part1 again without its cancelled orders (its first and last records kept, so the same range of
# windows): the store now holds what the changed part1 and the old part2 make.
python3 - <<'PY'
lines = open("part1.jsonl").read().splitlines(True)
kept = [l for i, l in enumerate(lines) if i in (0, len(lines) - 1) or '"status":"X"' not in l]
assert len(kept) < len(lines)
open("part1.jsonl", "w").writelines(kept)
PY
"$CANONRY" metrics --spec specs.json "${map[@]}" part1.jsonl part2.jsonl >expected3.rows 2>>canonry.log
"$CANONRY" metrics --spec specs.json "${map[@]}" --store "$store" part1.jsonl >/dev/null 2>&1
dump_all >dump3.rows
same "re-running one input over its range replaces that input's rows" expected3.rows dump3.rows
if diff -q expected.rows expected3.rows >/dev/null; then
  echo "FAIL: the changed input changed no row, the test shows nothing" >&2
  exit 1
fi

sed 's/"size": "1d"/"size": "12h"/' specs.json >changed.json
if "$CANONRY" metrics --spec changed.json --store "$store" part2.jsonl >/dev/null 2>err.txt; then
  echo "FAIL: a changed spec under a stored metricId was accepted" >&2
  exit 1
fi
grep -q 'metric "units_by_sku" is stored with a different spec' err.txt ||
  { echo "FAIL: unexpected message: $(cat err.txt)" >&2; exit 1; }
echo "ok: another spec under a stored metricId is refused"

if "$CANONRY" metrics dump --store "$store" --metric nothing >/dev/null 2>err.txt; then
  echo "FAIL: dumping an unknown metric succeeded" >&2
  exit 1
fi
grep -q 'the store has no metric "nothing"' err.txt ||
  { echo "FAIL: unexpected message: $(cat err.txt)" >&2; exit 1; }
echo "ok: an unknown metric is an error"
