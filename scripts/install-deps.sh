#!/usr/bin/env bash
# Installs what building and testing canonry needs on a fresh Debian 12 machine.
# Idempotent: packages already present are skipped, so it costs a second when nothing is missing.
set -euo pipefail

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git jq
  clang clang-format libclang-rt-14-dev
  libsimdjson-dev libbson-dev libmongoc-dev librdkafka-dev libpq-dev libsqlite3-dev
  libre2-dev libyaml-cpp-dev libcli11-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev libboost-dev libssl-dev
  python3 python3-venv
  maven openjdk-17-jre-headless
  clickhouse-server curl
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
