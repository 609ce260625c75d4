#!/usr/bin/env bash
# `make demo`: maps the orders example (examples/orders) from its three sources into canonical
# orders on embedded defaults, and says where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
canonry=${1:-build/canonry}
out=var/demo
mkdir -p "$out"
data=examples/orders/data
maps=examples/orders/mappings

run() {
  local name=$1 spec=$2 input=$3
  echo "== $name: $input"
  "$canonry" check --spec "$spec" --target-schema examples/orders/schema/order.schema.json
  "$canonry" map --spec "$spec" --validate examples/orders/schema/order.schema.json \
    --dlq "$out/$name.dlq.jsonl" --out "$out/$name.canonical.jsonl" "$input"
}

run shop_v1 "$maps/shop_v1.json" "$data/shop_v1.jsonl"
run shop_v1_bson "$maps/shop_v1.json" "$data/shop_v1.bson"
run shop_v1_dirty "$maps/shop_v1.json" "$data/shop_v1.dirty.jsonl"
run shop_v2 "$maps/shop_v2.json" "$data/shop_v2.debezium.kcat.jsonl"
run shop_v3 "$maps/shop_v3.json" "$data/shop_v3.kcat.jsonl"

echo
echo "Canonical orders and dead letters are in $out/:"
for f in "$out"/*.jsonl; do printf '  %-45s %6d lines\n' "$f" "$(wc -l <"$f")"; done
echo
echo "One canonical order from each source:"
for name in shop_v1 shop_v2 shop_v3; do head -1 "$out/$name.canonical.jsonl"; done
echo
echo "A dead letter (the record, the step, the reason, where it came from):"
head -1 "$out/shop_v1_dirty.dlq.jsonl"
