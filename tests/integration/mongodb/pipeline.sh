#!/usr/bin/env bash
# canonry run with MongoDB at both ends, against FerretDB:
#  1. a snapshot source (the orders example's shop_v1 collection) into the MongoDB state store:
#     `canonry state dump` equals the entities `canonry map` makes of a dump of that collection;
#     a second run sends nothing again and changes nothing;
#  2. Debezium change events with deletes and updateDescription-only updates (shop_v2, from a
#     file) into the MongoDB state store, in two runs so that the second resolves deletes and
#     updates through the store's source-key index and raw documents (not the runtime's cache):
#     the dump equals what `canonry map --emit-deletes` says, and what the SQLite store holds
#     after the same run.
# usage: pipeline.sh MONGO_TOOL (run by ctest: integration.mongodb.pipeline)
source "$(dirname "$0")/lib.sh" "$1" pipeline

check_equal() {  # EXPECTED GOT WHAT
  if ! diff -q "$1" "$2" >/dev/null; then
    echo "FAIL: $3" >&2
    diff "$1" "$2" | head -20 >&2
    exit 1
  fi
  echo "ok: $3 ($(wc -l <"$2") entities)"
}

# 1. Snapshot → MongoDB state.
"$tool" load "$CANONRY_MONGO_URI/$database.orders" "$examples/data/shop_v1.bson"
"$tool" dump "$CANONRY_MONGO_URI/$database.orders" collection.bson
"$CANONRY" map --spec "$examples/mappings/shop_v1.json" --format bson --emit-deletes \
  collection.bson 2>/dev/null | "$here/expected_state.py" order_id >expected_v1.jsonl
[ "$(wc -l <expected_v1.jsonl)" -eq 200 ] || { echo "FAIL: expected 200 orders" >&2; exit 1; }

cat >snapshot.yaml <<YAML
name: snapshot
sources:
  - name: shop_v1
    uri: "$CANONRY_MONGO_URI/$database.orders"
    format: bson
    mapping: $examples/mappings/shop_v1.json
    batch_size: 64
state: "$CANONRY_MONGO_URI/$database.state"
dlq: "file:dlq_v1.jsonl"
runtime: {progress_interval: 0, batch_messages: 50}
YAML
"$CANONRY" run --until-end snapshot.yaml
"$CANONRY" state dump --store "$CANONRY_MONGO_URI/$database.state" --subject canonical.order.v1 \
  >got_v1.jsonl
check_equal expected_v1.jsonl got_v1.jsonl "snapshot into MongoDB state"
[ ! -s dlq_v1.jsonl ] || { echo "FAIL: dead letters in a clean snapshot" >&2; exit 1; }

"$CANONRY" run --until-end snapshot.yaml 2>second.log
"$CANONRY" state dump --store "$CANONRY_MONGO_URI/$database.state" --subject canonical.order.v1 \
  >again_v1.jsonl
check_equal expected_v1.jsonl again_v1.jsonl "second snapshot run changes nothing"

# 2. Debezium events with deletes → MongoDB state, in two runs over a growing file.
events=$examples/data/shop_v2.debezium.kcat.jsonl
"$CANONRY" map --spec "$examples/mappings/shop_v2.json" --format kcat --emit-deletes "$events" \
  2>/dev/null | "$here/expected_state.py" order_id >expected_v2.jsonl
half=$(($(wc -l <"$events") / 2))
head -n "$half" "$events" >events.jsonl
cat >events.yaml <<YAML
name: events
sources:
  - {name: shop_v2, uri: "file:events.jsonl", format: kcat, mapping: $examples/mappings/shop_v2.json}
state: "$CANONRY_MONGO_URI/$database.state2"
dlq: "file:dlq_v2.jsonl"
runtime: {progress_interval: 0, batch_messages: 16}
YAML
"$CANONRY" run --until-end events.yaml
tail -n +"$((half + 1))" "$events" >>events.jsonl
"$CANONRY" run --until-end events.yaml
"$CANONRY" state dump --store "$CANONRY_MONGO_URI/$database.state2" --subject canonical.order.v1 \
  >got_v2.jsonl
check_equal expected_v2.jsonl got_v2.jsonl "Debezium deletes and updates through the source-key index"
[ ! -s dlq_v2.jsonl ] || { echo "FAIL: dead letters:" >&2; head -3 dlq_v2.jsonl >&2; exit 1; }
# The second half deletes orders the first half created: some must have been resolved there.
deleted_later=$(tail -n +"$((half + 1))" "$events" | grep -c '\\"op\\":\\"d\\"' || true)
[ "$deleted_later" -gt 0 ] || { echo "FAIL: no delete in the second half to resolve" >&2; exit 1; }
echo "ok: $deleted_later deletes in the second run resolved through MongoDB"

# The same events into the SQLite store: both stores dump the same entities.
sed -e "s#state: .*#state: \"sqlite:state.db\"#" -e "s#dlq_v2#dlq_sqlite#" events.yaml >sqlite.yaml
"$CANONRY" run --until-end sqlite.yaml
"$CANONRY" state dump --store sqlite:state.db --subject canonical.order.v1 >sqlite_v2.jsonl
check_equal sqlite_v2.jsonl got_v2.jsonl "MongoDB and SQLite stores hold the same entities"
