#!/usr/bin/env bash
# kill -9 of `canonry run` at random moments, ten times, while it reads a MongoDB collection
# snapshot into the MongoDB state store (FerretDB); then a run to the end. The state must equal a
# clean run's and what `canonry map` makes of a dump of the collection, with nothing in the DLQ.
# usage: restart.sh MONGO_TOOL (run by ctest: integration.mongodb.restart, label faults)
source "$(dirname "$0")/lib.sh" "$1" restart

python3 "$examples/generate.py" --source shop_v1 --format bson --count 2000 --seed 11 \
  >orders.bson 2>/dev/null
"$tool" load "$CANONRY_MONGO_URI/$database.orders" orders.bson
"$tool" dump "$CANONRY_MONGO_URI/$database.orders" collection.bson
"$CANONRY" map --spec "$examples/mappings/shop_v1.json" --format bson --emit-deletes \
  collection.bson 2>map.log | "$here/expected_state.py" order_id >expected.jsonl

pipeline() {  # NAME: a config writing into state collection NAME, DLQ file NAME.dlq.jsonl
  cat >"$1.yaml" <<YAML
name: $1
sources:
  - name: shop_v1
    uri: "$CANONRY_MONGO_URI/$database.orders"
    format: bson
    mapping: $examples/mappings/shop_v1.json
    batch_size: 100
state: "$CANONRY_MONGO_URI/$database.$1"
dlq: "file:$1.dlq.jsonl"
runtime: {progress_interval: 0, batch_messages: 100, checkpoint_interval: 50ms}
YAML
}
dump() {
  "$CANONRY" state dump --store "$CANONRY_MONGO_URI/$database.$1" --subject canonical.order.v1
}

pipeline clean
"$CANONRY" run --until-end clean.yaml
dump clean >clean.jsonl
diff -q expected.jsonl clean.jsonl >/dev/null || { echo "FAIL: clean run differs from canonry map" >&2; exit 1; }

pipeline faulty
kills=0
for attempt in $(seq 10); do
  "$CANONRY" run --until-end faulty.yaml 2>>faulty.log &
  pid=$!
  sleep "$(python3 -c "import random; print(round(random.uniform(0.3, 2.5), 2))")"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
done
if ! "$CANONRY" run --until-end faulty.yaml 2>>faulty.log; then
  echo "FAIL: the run after the kills failed:" >&2
  tail -5 faulty.log >&2
  exit 1
fi
dump faulty >faulty.jsonl
if ! diff -q clean.jsonl faulty.jsonl >/dev/null; then
  echo "FAIL: state after $kills kills differs from a clean run" >&2
  diff clean.jsonl faulty.jsonl | head -10 >&2
  exit 1
fi
[ ! -s faulty.dlq.jsonl ] || { echo "FAIL: dead letters after restarts" >&2; head -3 faulty.dlq.jsonl >&2; exit 1; }
[ "$kills" -ge 1 ] || { echo "FAIL: no run was killed mid-way" >&2; exit 1; }
# Restarts resumed after the last _id the source committed: its checkpoint is there.
"$tool" dump "$CANONRY_MONGO_URI/$database.canonry.checkpoints" checkpoints.bson
[ -s checkpoints.bson ] || { echo "FAIL: the source wrote no checkpoint" >&2; exit 1; }
echo "ok: $(wc -l <faulty.jsonl) entities equal a clean run's after $kills kill -9s"
