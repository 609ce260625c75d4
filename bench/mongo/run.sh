#!/usr/bin/env bash
# Snapshot reads of a MongoDB collection (FerretDB v1 on SQLite, scripts/services/ferretdb.sh):
# `canonry run --until-end` with a mongodb:// snapshot source, the shop_v1 mapping and a file of
# canonical events, against the same read done as mongoexport does it, in Python with pymongo
# (export.py: _id order, relaxed extended JSON lines). mongoexport itself cannot be installed here
# (no Debian package; the Go module proxy refuses github.com/mongodb/mongo-tools). Both read the
# same collection from the same server in one run; the outputs must hold the same documents.
# Prints wall time, documents/s and the ratio. The server (one FerretDB process on the same two
# cores) is part of what both measure.
#
# Environment: CANONRY (default build/canonry), MONGO_TOOL (default
# build/tests/integration/mongodb/mongo_tool), BENCH_MONGO_DOCS (default 20000), BENCH_SEED (42).
set -euo pipefail
cd "$(dirname "$0")/../.."

CANONRY=${CANONRY:-build/canonry}
MONGO_TOOL=${MONGO_TOOL:-build/tests/integration/mongodb/mongo_tool}
DOCS=${BENCH_MONGO_DOCS:-20000}
SEED=${BENCH_SEED:-42}
PYTHON=bench/.venv/bin/python
OUT=$PWD/bench/out/mongo
[ -x "$MONGO_TOOL" ] || { echo "bench/mongo: $MONGO_TOOL missing: make build" >&2; exit 2; }
[ -x "$PYTHON" ] || { echo "bench/mongo: $PYTHON missing: run scripts/install-bench-deps.sh" >&2; exit 2; }
rm -rf "$OUT"
mkdir -p "$OUT"
scripts/services/ferretdb.sh start "$OUT/ferretdb" >/dev/null
trap 'scripts/services/ferretdb.sh stop "$OUT/ferretdb"' EXIT
source "$OUT/ferretdb/env"

python3 examples/orders/generate.py --source shop_v1 --format bson --count "$DOCS" --seed "$SEED" \
  >"$OUT/orders.bson" 2>/dev/null
"$MONGO_TOOL" load "$CANONRY_MONGO_URI/shop.orders" "$OUT/orders.bson" 2>/dev/null

cat >"$OUT/pipeline.yaml" <<YAML
name: bench
sources:
  - {name: shop_v1, uri: "$CANONRY_MONGO_URI/shop.orders", format: bson, batch_size: 1000,
     mapping: $PWD/examples/orders/mappings/shop_v1.json}
events: "file:canonical.jsonl"
dlq: "file:dlq.jsonl"
runtime: {progress_interval: 0}
YAML

now() { date +%s.%N; }
start=$(now)
"$CANONRY" run --until-end "$OUT/pipeline.yaml"
canonry_seconds=$(python3 -c "print($(now) - $start)")
start=$(now)
"$PYTHON" bench/mongo/export.py "$CANONRY_MONGO_URI" shop orders "$OUT/export.jsonl"
python_seconds=$(python3 -c "print($(now) - $start)")

canonry_docs=$(wc -l <"$OUT/canonical.jsonl")
python_docs=$(wc -l <"$OUT/export.jsonl")
if [ "$canonry_docs" -ne "$DOCS" ] || [ "$python_docs" -ne "$DOCS" ] || [ -s "$OUT/dlq.jsonl" ]; then
  echo "bench/mongo: outputs differ: canonry $canonry_docs records, pymongo $python_docs, $DOCS documents" >&2
  exit 1
fi
# The same documents in the same order: canonry's order_id is the document's orderId, or its _id.
"$CANONRY" map --spec examples/orders/mappings/shop_v1.json --format json "$OUT/export.jsonl" \
  2>/dev/null | cmp -s - "$OUT/canonical.jsonl" ||
  { echo "bench/mongo: canonry's records differ from the mapping of pymongo's export" >&2; exit 1; }

python3 - "$DOCS" "$canonry_seconds" "$python_seconds" <<'PY'
import sys
docs, canonry, python = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"{'tool':<48} {'seconds':>8} {'docs/s':>10}")
print(f"{'canonry run (snapshot source, shop_v1 mapping)':<48} {canonry:8.2f} {docs / canonry:10.0f}")
print(f"{'pymongo export (mongoexport-like, no mapping)':<48} {python:8.2f} {docs / python:10.0f}")
print(f"canonry / pymongo: {python / canonry:.2f}x ({docs} documents, FerretDB v1 on SQLite)")
PY
