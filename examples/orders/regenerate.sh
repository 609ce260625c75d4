#!/usr/bin/env bash
# Rewrites the sample files in data/ from generate.py; with --check, only verifies that they are
# what generate.py makes (exit 1 naming the files that differ).
set -euo pipefail
cd "$(dirname "$0")"

check=0
[ "${1:-}" = "--check" ] && check=1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# file  generate.py arguments
FILES=(
  "shop_v1.jsonl               --source shop_v1 --format json --seed 1"
  "shop_v1.bson                --source shop_v1 --format bson --seed 1"
  "shop_v1.dirty.jsonl         --source shop_v1 --format json --seed 4 --bad-fraction 0.05"
  "shop_v2.debezium.jsonl      --source shop_v2 --format debezium --seed 2"
  "shop_v2.debezium.kcat.jsonl --source shop_v2 --format kcat --seed 2"
  "shop_v3.kcat.jsonl          --source shop_v3 --format kcat --seed 3"
)
differ=()
for entry in "${FILES[@]}"; do
  read -r file args <<<"$entry"
  # shellcheck disable=SC2086
  python3 generate.py --count 200 $args --out "$scratch/$file" 2>/dev/null
  if ((check)); then
    cmp -s "$scratch/$file" "data/$file" || differ+=("data/$file")
  else
    mv "$scratch/$file" "data/$file"
  fi
done
if ((${#differ[@]})); then
  echo "regenerate: not what generate.py makes: ${differ[*]}" >&2
  exit 1
fi
