#!/usr/bin/env bash
# Runs every benchmark: each bench/<name>/run.sh in name order (`make bench` calls this). Each
# prints its own table; this exits non-zero when any of them did, after running them all.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-bench-deps.sh || exit 1
failed=()
for script in bench/*/run.sh; do
  [ -x "$script" ] || continue
  echo "== ${script%/run.sh}" >&2
  "$script" || failed+=("${script%/run.sh}")
done
if ((${#failed[@]})); then
  echo "bench: failed or incomplete: ${failed[*]}" >&2
  exit 1
fi
