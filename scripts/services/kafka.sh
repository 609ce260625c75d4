#!/usr/bin/env bash
# Apache Kafka 4.x from Maven Central, one KRaft node (broker and controller in one JVM): see
# lib.sh for the contract. Beyond start/stop:
#   kafka.sh restart DIR                    stops the broker (SIGKILL) and starts it again on the
#                                           same ports with the same data (fault tests)
#   kafka.sh topic DIR NAME [PARTITIONS] [CONFIG=VALUE...]   creates a topic
# env: CANONRY_KAFKA_BOOTSTRAP (127.0.0.1:PORT), CANONRY_KAFKA_DIR (DIR, for restart and topic),
#      CANONRY_KAFKA_CLASSPATH (the jars, for Kafka's own tools).
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 start|stop|restart DIR | topic DIR NAME [PARTITIONS] [K=V...]" >&2; exit 2; }
action=$1 dir=$2

kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")
cache=${CANONRY_CACHE:-$HOME/.cache/canonry}/kafka-$kafka_version

# Downloads the broker and its runtime dependencies once (Maven's own repository under the cache,
# so a fresh machine needs nothing but mvn and a JRE 17, which scripts/install-deps.sh installs).
fetch_kafka() {
  [ -f "$cache/libs/.complete" ] && return 0
  command -v mvn >/dev/null && command -v java >/dev/null ||
    { echo "services: Kafka needs mvn and java (scripts/install-deps.sh)" >&2; exit 1; }
  echo "kafka: fetching Apache Kafka $kafka_version from Maven Central into $cache" >&2
  rm -rf "$cache/libs"
  mkdir -p "$cache"
  mvn -q -B -f "$here/kafka/pom.xml" -Dmaven.repo.local="$cache/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$cache/libs" >&2
  touch "$cache/libs/.complete"
}

classpath() { echo "$cache/libs/*"; }

# java with a small heap: the broker shares two cores with the build and the tests.
run_java() {
  java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" -cp "$(classpath)" "$@"
}

# Starts the broker from DIR/server.properties and waits for its "Kafka Server started" line:
# cheaper than asking it through a JVM tool every 0.2 s.
launch_broker() {
  local started
  started=$(grep -c 'Kafka Server started' "$dir/server.log" 2>/dev/null || true)
  nohup bash -c "exec java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile='$here/kafka/log4j2.properties' \
    -cp '$(classpath)' kafka.Kafka '$dir/server.properties'" >>"$dir/server.log" 2>&1 &
  echo $! >"$dir/broker.pid"
  wait_until 90 "Kafka in $dir" started_more_than "${started:-0}"
}

started_more_than() {
  [ "$(grep -c 'Kafka Server started' "$dir/server.log")" -gt "$1" ]
}

case $action in
start)
  "$0" stop "$dir"
  fetch_kafka
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  port=$(free_port)
  controller_port=$(free_port)
  while [ "$controller_port" = "$port" ]; do controller_port=$(free_port); done
  # Settings for a one-node test cluster: replication factor 1 everywhere, few internal
  # partitions (faster group and transaction coordinator loading), no rebalance delay, and
  # transactions left open by a killed producer aborted within seconds.
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=2000
group.consumer.heartbeat.interval.ms=1000
group.consumer.min.heartbeat.interval.ms=1000
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
transaction.remove.expired.transaction.cleanup.interval.ms=60000
log.retention.check.interval.ms=600000
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
PROPS
  run_java kafka.tools.StorageTool format --config "$dir/server.properties" \
    --cluster-id "$(run_java kafka.tools.StorageTool random-uuid)" --ignore-formatted \
    >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; exit 1; }
  launch_broker || { tail -30 "$dir/server.log" >&2; exit 1; }
  cat >"$dir/env" <<ENV
CANONRY_KAFKA_BOOTSTRAP=127.0.0.1:$port
CANONRY_KAFKA_DIR=$dir
CANONRY_KAFKA_CLASSPATH="$(classpath)"
ENV
  echo "kafka: listening on 127.0.0.1:$port (Kafka $kafka_version, data in $dir)"
  ;;
restart)
  [ -f "$dir/server.properties" ] || { echo "kafka: nothing started in $dir" >&2; exit 1; }
  # A crash, not a clean shutdown: the fault tests want the broker's recovery path.
  if [ -f "$dir/broker.pid" ]; then kill -9 "$(cat "$dir/broker.pid")" 2>/dev/null || true; fi
  while kill -0 "$(cat "$dir/broker.pid")" 2>/dev/null; do sleep 0.1; done
  launch_broker || { tail -30 "$dir/server.log" >&2; exit 1; }
  ;;
topic)
  [ $# -ge 3 ] || usage_and_exit
  name=$3 partitions=${4:-1}
  shift $(($# >= 4 ? 4 : 3))
  configs=()
  for setting in "$@"; do configs+=(--config "$setting"); done
  bootstrap=$(sed -n 's/^CANONRY_KAFKA_BOOTSTRAP=//p' "$dir/env")
  run_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create \
    --if-not-exists --topic "$name" --partitions "$partitions" --replication-factor 1 \
    "${configs[@]}" >/dev/null
  ;;
stop)
  kill_pidfile "$dir/broker.pid"
  rm -rf "$dir"
  ;;
*) usage_and_exit ;;
esac
