# Shared by the MongoDB integration tests: FerretDB's address, the test's tool and folders, a work
# folder to run in, and a database of the test's own whose orders collection is dropped on exit.
# Usage: source lib.sh MONGO_TOOL DATABASE_PREFIX
set -euo pipefail
tool=$1
source "$CANONRY_SOURCE_DIR/scripts/services/env.sh" ferretdb
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
examples=$CANONRY_SOURCE_DIR/examples/orders
work=$(mktemp -d)
database=$2_$$
trap '"$tool" drop "$CANONRY_MONGO_URI/$database.orders" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cd "$work"
