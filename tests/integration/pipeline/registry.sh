#!/usr/bin/env bash
# registry: in a pipeline. A source without `schema:` validates against the latest schema of its
# mapping's target.subject: fetched from a running registry (canonry serve) with
# `registry: http://...`, or read from the registry's folder with `registry: {embedded: DIR}`. Both
# send exactly the dead letters that the schema file gives.
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
data=$work/data
mkdir -p "$data"
cp "$EXAMPLE/data/shop_v1.dirty.jsonl" "$data/shop_v1.jsonl"
cp "$EXAMPLE/data/shop_v2.debezium.kcat.jsonl" "$EXAMPLE/data/shop_v3.kcat.jsonl" "$data/"
# Two orders that map but break the canonical schema (currency must be three capitals).
head -2 "$EXAMPLE/data/shop_v1.jsonl" | sed -E 's/"orderId":"SO-/"orderId":"BAD-/; s/"currency":"[A-Za-z]*"/"currency":"EURO"/' |
  sed -E '/"currency"/!s/^\{/{"currency":"EURO",/' >>"$data/shop_v1.jsonl"

# A registry with the canonical order schema under the mappings' subject.
"$CANONRY" serve --listen 127.0.0.1:0 --data "$work/registry" 2>"$work/serve.log" &
pid=$!
address=
for _ in $(seq 600); do
  address=$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$work/serve.log" 2>/dev/null | head -1)
  [ -n "$address" ] && break
  sleep 0.1
done
[ -n "$address" ] || { echo "FAIL: canonry serve did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
python3 -c 'import json,sys; print(json.dumps({"schemaType": "JSON", "schema": open(sys.argv[1]).read()}))' \
  "$EXAMPLE/schema/order.schema.json" >"$work/register.json"
curl -sf -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
  --data-binary @"$work/register.json" \
  "http://$address/subjects/canonical.order.v1/versions" >/dev/null

# The same pipeline three ways: schema files, the running registry, the registry's folder.
with_schema() { write_config "$work/$1.yaml" "sqlite:$work/$1/state.db" "$work/$1" "$data"; }
without_schema() {
  with_schema "$1"
  sed -i 's/, schema: [^}]*}/}/' "$work/$1.yaml"
  echo "registry: $2" >>"$work/$1.yaml"
}
with_schema files
without_schema remote "http://$address"
"$CANONRY" run --until-end "$work/files.yaml"
"$CANONRY" run --until-end "$work/remote.yaml"
kill "$pid"
wait "$pid" || true
pid=
without_schema embedded "{embedded: $work/registry}"
"$CANONRY" run --until-end "$work/embedded.yaml"

[ "$(grep -c '"step":"validate"' "$work/files/dlq.jsonl")" -gt 0 ] ||
  { echo "FAIL: the example has no validation failures to compare" >&2; exit 1; }
same "dead letters with the remote registry" "$work/files/dlq.jsonl" "$work/remote/dlq.jsonl"
same "dead letters with the embedded registry" "$work/files/dlq.jsonl" "$work/embedded/dlq.jsonl"
same "events with the remote registry" "$work/files/canonical.jsonl" "$work/remote/canonical.jsonl"
