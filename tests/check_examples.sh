#!/usr/bin/env bash
# The orders example stays true: its data is what the generator makes, its specs pass
# `canonry check` against the canonical schema (their own tests included), and every canonical
# record each source gives is valid against that schema.
set -euo pipefail
canonry=$1
cd "$(dirname "$0")/../examples/orders"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0
step() {
  if "$@" >"$scratch/out" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $*"
    tail -20 "$scratch/out"
  fi
}
step ./regenerate.sh --check
for source in shop_v1 shop_v2 shop_v3; do
  step "$canonry" check --spec "mappings/$source.json" --target-schema schema/order.schema.json
done
for pair in "shop_v1 data/shop_v1.jsonl" "shop_v1 data/shop_v1.bson" \
    "shop_v2 data/shop_v2.debezium.kcat.jsonl" "shop_v3 data/shop_v3.kcat.jsonl"; do
  read -r source input <<<"$pair"
  # --validate sends invalid records to the DLQ: an empty DLQ means all of them are valid.
  step "$canonry" map --spec "mappings/$source.json" --validate schema/order.schema.json \
    --dlq "$scratch/dlq.jsonl" --out "$scratch/canonical.jsonl" "$input"
  step test ! -s "$scratch/dlq.jsonl"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
