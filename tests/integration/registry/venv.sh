#!/usr/bin/env bash
# Makes (once) the Python environment of the registry's client tests: confluent-kafka with its
# schema-registry, JSON and Avro extras, from PyPI, cached under ~/.cache/canonry. Prints its python.
set -euo pipefail
venv="${CANONRY_CACHE:-$HOME/.cache/canonry}/venv-registry"
stamp="$venv/.canonry-installed-3"
if [ ! -f "$stamp" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "confluent-kafka[schemaregistry,json,avro]==2.16.1" "jsonschema>=4.17" fastavro >&2
  touch "$stamp"
fi
echo "$venv/bin/python"
