#!/usr/bin/env bash
# Runs clients_test.py in the venv of venv.sh against the canonry binary in $CANONRY.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="$("$here/venv.sh")"
exec "$python" "$here/clients_test.py" --canonry "${CANONRY:?set by ctest}" \
  --source-dir "${CANONRY_SOURCE_DIR:-$here/../../..}"
