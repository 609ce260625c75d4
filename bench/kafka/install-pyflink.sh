#!/usr/bin/env bash
# Installs the peer of bench/kafka, idempotently: PyFlink (`apache-flink` from PyPI, pip's normal
# cache) in a venv of its own, bench/.venv-flink (its pinned dependencies, apache-beam among them,
# would clash with bench/.venv's), and the Kafka connector jar for Flink 2.x from Maven Central
# (flink-sql-connector-kafka: the connector with kafka-clients shaded in), cached under
# ~/.cache/canonry. Prints the jar's path on stdout.
# Needs python3-venv, java 17 and mvn (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."

FLINK_VERSION=2.3.0
# The newest Kafka connector release, built against Flink 2.2; Flink keeps its DataStream
# connector API stable across 2.x minor releases, and 2.3 runs it.
CONNECTOR_VERSION=5.0.0-2.2
VENV=bench/.venv-flink
CACHE=${CANONRY_CACHE:-$HOME/.cache/canonry}/flink-kafka-$CONNECTOR_VERSION
JAR=$CACHE/flink-sql-connector-kafka-$CONNECTOR_VERSION.jar

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if [ "$("$VENV/bin/python" -m pip show apache-flink 2>/dev/null | sed -n 's/^Version: //p')" != "$FLINK_VERSION" ]; then
  echo "install-pyflink: installing apache-flink $FLINK_VERSION into $VENV" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "apache-flink==$FLINK_VERSION" >&2
fi

if [ ! -s "$JAR" ]; then
  command -v mvn >/dev/null || { echo "install-pyflink: mvn missing (scripts/install-deps.sh)" >&2; exit 1; }
  echo "install-pyflink: fetching flink-sql-connector-kafka $CONNECTOR_VERSION from Maven Central" >&2
  mkdir -p "$CACHE"
  mvn -q -B -Dmaven.repo.local="$CACHE/m2" dependency:copy \
    -Dartifact="org.apache.flink:flink-sql-connector-kafka:$CONNECTOR_VERSION" \
    -DoutputDirectory="$CACHE" >&2
  [ -s "$JAR" ] || { echo "install-pyflink: $JAR not fetched" >&2; exit 1; }
fi
echo "$JAR"
