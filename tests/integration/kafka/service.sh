#!/usr/bin/env bash
# The Kafka test service keeps its data across `kafka.sh restart` (a SIGKILL and a start), which
# the fault tests rely on.
set -euo pipefail
tool=$1
source "$CANONRY_SOURCE_DIR/scripts/services/env.sh" kafka
kafka="$CANONRY_SOURCE_DIR/scripts/services/kafka.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$kafka" topic "$CANONRY_KAFKA_DIR" service.check 3
seq 1 100 | awk '{printf "k%d\t{\"n\": %d}\n", $1, $1}' | "$tool" produce "$CANONRY_KAFKA_BOOTSTRAP" service.check
"$kafka" restart "$CANONRY_KAFKA_DIR"
"$tool" consume "$CANONRY_KAFKA_BOOTSTRAP" service.check --count 100 --idle-ms 20000 >"$work/out"
got=$(cut -f3 "$work/out" | sort -u | wc -l)
if [ "$got" -ne 100 ]; then
  echo "service: expected 100 distinct keys after the restart, got $got" >&2
  exit 1
fi
# The same key always lands in the same partition (murmur2, as Java clients do).
if [ "$(cut -f1,3 "$work/out" | sort -u | wc -l)" -ne 100 ]; then
  echo "service: a key landed in two partitions" >&2
  exit 1
fi
echo "service: 100 messages read back after a broker restart"
