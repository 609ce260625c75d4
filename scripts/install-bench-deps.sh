#!/usr/bin/env bash
# Installs the peers the benchmarks compare canonry with, and what the harness itself uses.
# Idempotent: what is already there is skipped.
#   Debian: jq (the peer; scripts/install-deps.sh installs it too), time (GNU time for peak RSS),
#           wrk (the HTTP load generator of bench/registry)
#   bench/.venv: a Python venv with the Python peers and helpers: pymongo (its bson module
#                cross-checks the hand-written BSON encoder of examples/orders/generate.py),
#                genson (bench/discover), jsonschema (bench/validate), duckdb (bench/metrics)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(jq time python3 python3-venv wrk)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "install-bench-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PIP_PACKAGES=(pymongo genson jsonschema duckdb)
VENV=bench/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
for pkg in "${PIP_PACKAGES[@]}"; do
  "$VENV/bin/python" -m pip show -q "$pkg" >/dev/null 2>&1 ||
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$pkg"
done
