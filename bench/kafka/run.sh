#!/usr/bin/env bash
# Kafka → canonical events on Kafka + state in SQLite: `canonry run` against the same job in
# PyFlink (pyflink_job.py: Flink SQL's Kafka source and exactly-once sink around a Python UDF of
# bench/map/shop_v1.py's mapping), on one broker (scripts/services/kafka.sh, started here in a
# temporary folder), one input topic, the same data (shop_v1 orders of
# examples/orders/generate.py). See bench/README.md, "kafka".
#
#  1. Throughput: the input topic (BENCH_KAFKA_PARTITIONS partitions) is filled once with
#     BENCH_KAFKA_MESSAGES messages; `canonry run --until-end` reads all of it, and PyFlink a
#     prefix of BENCH_KAFKA_FLINK_MESSAGES (the same first messages of each partition). Checks: a
#     read_committed consumer sees one event per message and the state store one row per order,
#     nothing in the DLQ; PyFlink's events and state equal canonry's on the prefix.
#  2. Latency: for each rate, a fresh input topic, the pipeline running (not --until-end), a
#     producer at that rate stamping each message with its send time, and a read_committed
#     consumer of the events topic measuring receive time - send time (p50, p99, max). Events
#     are visible only when their transaction commits, so the checkpoint interval bounds latency
#     from below: BENCH_KAFKA_CHECKPOINT (default 20ms) for both tools.
#
# Prints one table (also bench/out/kafka/results.txt). Exits non-zero when a check fails or a
# tool fails; nothing asserts a time.
#
# Environment: CANONRY (default build/canonry), KAFKA_TOOL (build/tests/integration/kafka/
# kafka_tool), BENCH_KAFKA_MESSAGES (2000000), BENCH_KAFKA_FLINK_MESSAGES (300000),
# BENCH_KAFKA_PARTITIONS (6), BENCH_KAFKA_RATES (canonry: "1000 10000 50000"),
# BENCH_KAFKA_FLINK_RATES ("1000 3000"), BENCH_KAFKA_LATENCY_SECONDS (10 per rate),
# BENCH_KAFKA_CHECKPOINT (20ms), BENCH_KAFKA_FLINK (0: skip PyFlink), BENCH_SEED (42).
set -euo pipefail
cd "$(dirname "$0")/../.."

CANONRY=${CANONRY:-build/canonry}
KAFKA_TOOL=${KAFKA_TOOL:-build/tests/integration/kafka/kafka_tool}
MESSAGES=${BENCH_KAFKA_MESSAGES:-2000000}
FLINK_MESSAGES=${BENCH_KAFKA_FLINK_MESSAGES:-300000}
PARTITIONS=${BENCH_KAFKA_PARTITIONS:-6}
RATES=${BENCH_KAFKA_RATES:-1000 10000 50000}
FLINK_RATES=${BENCH_KAFKA_FLINK_RATES:-1000 3000}
LATENCY_SECONDS=${BENCH_KAFKA_LATENCY_SECONDS:-10}
CHECKPOINT=${BENCH_KAFKA_CHECKPOINT:-20ms}
WITH_FLINK=${BENCH_KAFKA_FLINK:-1}
SEED=${BENCH_SEED:-42}
OUT=$PWD/bench/out/kafka
HARNESS=bench/kafka/harness.py
FLINK_PYTHON=bench/.venv-flink/bin/python
[ -x "$CANONRY" ] || { echo "bench/kafka: $CANONRY missing: make build" >&2; exit 2; }
[ -x "$KAFKA_TOOL" ] || { echo "bench/kafka: $KAFKA_TOOL missing: make build" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "bench/kafka: GNU time missing: run scripts/install-bench-deps.sh" >&2; exit 2; }
CANONRY=$(realpath "$CANONRY")
KAFKA_TOOL=$(realpath "$KAFKA_TOOL")
if ((WITH_FLINK)); then FLINK_JAR=$(bench/kafka/install-pyflink.sh); fi
mkdir -p "$OUT"
rm -rf "$OUT/run"
mkdir -p "$OUT/run"
RUN=$OUT/run
RESULTS=$RUN/results.tsv

# The input, cached per generator version, count and seed.
GENERATOR_VERSION=$(sha256sum examples/orders/generate.py | cut -c1-12)
INPUT=$OUT/shop_v1.$MESSAGES.seed$SEED.$GENERATOR_VERSION.jsonl
if [ ! -s "$INPUT" ]; then
  echo "bench/kafka: generating $INPUT" >&2
  python3 examples/orders/generate.py --source shop_v1 --format json --count "$MESSAGES" \
    --seed "$SEED" --out "$INPUT.tmp" 2>/dev/null
  mv "$INPUT.tmp" "$INPUT"
fi

BROKER=$(mktemp -d /tmp/canonry-bench-kafka.XXXXXX)
PIPELINE_PIDS=()
cleanup() {
  local pid
  for pid in "${PIPELINE_PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  scripts/services/kafka.sh stop "$BROKER/kafka" >/dev/null 2>&1 || true
  rm -rf "$BROKER"
}
trap cleanup EXIT
scripts/services/kafka.sh start "$BROKER/kafka" >&2
source "$BROKER/kafka/env"
B=$CANONRY_KAFKA_BOOTSTRAP
BROKER_PID=$(cat "$BROKER/kafka/broker.pid")
TICKS=$(getconf CLK_TCK)
broker_cpu() { awk -v t="$TICKS" '{printf "%.2f\n", ($14 + $15) / t}' "/proc/$BROKER_PID/stat"; }
load() { cut -d' ' -f1 /proc/loadavg; }
topic() { "$KAFKA_TOOL" create "$B" "$1" "$2"; }
now_ms() { date +%s%3N; }
status=0
fail() { echo "bench/kafka: FAIL: $*" >&2; status=1; }

# canonry_config FILE INPUT_TOPIC OUTPUT_PREFIX STATE_DB RUNTIME
canonry_config() {
  topic "$3.events" 6
  topic "$3.dlq" 1
  cat >"$1" <<YAML
name: bench
sources:
  - {name: shop_v1, uri: "kafka://$B/$2", format: json, group: $3,
     mapping: $PWD/examples/orders/mappings/shop_v1.json}
state: "sqlite:$4"
events: "kafka://$B/$3.events"
dlq: "kafka://$B/$3.dlq"
runtime: $5
YAML
}

# ---------------------------------------------------------------------------------------------
# 1. Throughput
echo "bench/kafka: writing $MESSAGES messages to topic orders ($PARTITIONS partitions)" >&2
topic orders "$PARTITIONS"
"$KAFKA_TOOL" produce "$B" orders <"$INPUT" 2>/dev/null

echo "bench/kafka: canonry run --until-end" >&2
canonry_config "$RUN/canonry.yaml" orders canonry "$RUN/canonry.db" "{progress_interval: 0}"
broker_before=$(broker_cpu) load_before=$(load) start=$(now_ms)
/usr/bin/time -f '%U %S' -o "$RUN/canonry.time" "$CANONRY" run --until-end "$RUN/canonry.yaml" ||
  fail "canonry run failed"
wall_ms=$(($(now_ms) - start))
echo -e "throughput\tcanonry\t$MESSAGES\t$wall_ms\t$(awk '{print $1 + $2}' "$RUN/canonry.time")\t$(
  awk -v a="$broker_before" -v b="$(broker_cpu)" 'BEGIN {print b - a}')\t$load_before $(load)" >>"$RESULTS"

"$KAFKA_TOOL" consume "$B" canonry.events --idle-ms 10000 >"$RUN/canonry.events.tsv"
"$CANONRY" state dump --store "sqlite:$RUN/canonry.db" --subject canonical.order.v1 \
  >"$RUN/canonry.state.jsonl"
events=$(wc -l <"$RUN/canonry.events.tsv")
entities=$(wc -l <"$RUN/canonry.state.jsonl")
dead=$("$KAFKA_TOOL" consume "$B" canonry.dlq --idle-ms 2000 | wc -l)
[ "$events" -eq "$MESSAGES" ] || fail "canonry: $events committed events, $MESSAGES messages"
[ "$entities" -eq "$MESSAGES" ] || fail "canonry: $entities entities in the state store, $MESSAGES orders"
[ "$dead" -eq 0 ] || fail "canonry: $dead dead letters; the input has none"
echo "bench/kafka: canonry: $events committed events, $entities entities, $dead dead letters" >&2

if ((WITH_FLINK)); then
  echo "bench/kafka: PyFlink on the first $FLINK_MESSAGES messages" >&2
  per_partition=$(((FLINK_MESSAGES + PARTITIONS - 1) / PARTITIONS))
  bounds=$(python3 "$HARNESS" bounds "$RUN/canonry.events.tsv" "$per_partition")
  # flink NAME BOUNDS LABEL: one bounded run of the job into topic NAME.events, timed.
  flink() {
    local broker_before load_before start wall_ms messages
    topic "$1.events" 6
    messages=$(python3 -c "print(sum(int(b.split(':')[1]) for b in '$2'.split(',')))")
    broker_before=$(broker_cpu) load_before=$(load) start=$(now_ms)
    python3 "$HARNESS" cpu "$RUN/$1.cpu" -- "$FLINK_PYTHON" bench/kafka/pyflink_job.py \
      --bootstrap "$B" --input orders --events "$1.events" --state "$RUN/$1.db" \
      --connector "$FLINK_JAR" --bounds "$2" --group "$1" >"$RUN/$1.log" 2>&1 ||
      { tail -20 "$RUN/$1.log" >&2; fail "PyFlink failed (log: $RUN/$1.log)"; }
    wall_ms=$(($(now_ms) - start))
    echo -e "throughput\t$3\t$messages\t$wall_ms\t$(cat "$RUN/$1.cpu")\t$(
      awk -v a="$broker_before" -v b="$(broker_cpu)" 'BEGIN {print b - a}')\t$load_before $(load)" >>"$RESULTS"
  }
  # PyFlink's fixed cost (a JVM, a MiniCluster, Python workers, the final checkpoint) on 100
  # messages per partition, so that its rate net of start-up can be printed too.
  flink flink-startup "$(python3 "$HARNESS" bounds "$RUN/canonry.events.tsv" 100)" "PyFlink-startup"
  flink flink "$bounds" PyFlink
  "$KAFKA_TOOL" consume "$B" flink.events --idle-ms 10000 >"$RUN/flink.events.tsv"
  "$CANONRY" state dump --store "sqlite:$RUN/flink.db" --subject canonical.order.v1 \
    >"$RUN/flink.state.jsonl" || fail "no PyFlink state"
  python3 "$HARNESS" compare "$bounds" "$RUN/canonry.events.tsv" "$RUN/flink.events.tsv" \
    "$RUN/canonry.state.jsonl" "$RUN/flink.state.jsonl" >&2 || fail "PyFlink's outputs differ from canonry's"
fi
rm -f "$RUN"/*.events.tsv

# ---------------------------------------------------------------------------------------------
# 2. Latency at fixed rates. latency TOOL RATE: the pipeline is started by start_TOOL NAME and
# must be running; 100 warm-up messages go through first (the consumer ignores messages stamped
# before it started).
latency() {
  local tool=$1 rate=$2 name=lat-$1-$2 pid
  local count=$((rate * LATENCY_SECONDS))
  topic "$name" "$PARTITIONS"
  "start_$tool" "$name"
  pid=${PIPELINE_PIDS[-1]}
  head -n 100 "$INPUT" | "$KAFKA_TOOL" produce "$B" "$name" 2>/dev/null
  if ! "$KAFKA_TOOL" consume "$B" "$name.events" --count 100 --idle-ms 180000 >/dev/null; then
    fail "$tool: no warm-up events"
  fi
  "$KAFKA_TOOL" consume "$B" "$name.events" --latency --count "$count" --idle-ms 10000 \
    >"$RUN/$name.json" &
  local consumer=$!
  sleep 2  # the consumer has its partitions before the first measured message is sent
  local broker_before load_before
  broker_before=$(broker_cpu) load_before=$(load)
  sed -n "101,$((100 + count))p;$((100 + count))q" "$INPUT" | "$KAFKA_TOOL" produce "$B" "$name" --rate "$rate" 2>/dev/null
  wait "$consumer" || fail "$tool at $rate/s: the latency consumer failed"
  local broker_after
  broker_after=$(broker_cpu)
  kill -TERM -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'PIPELINE_PIDS[-1]'
  python3 - "$RUN/$name.json" "$tool" "$rate" "$count" "$broker_before" "$broker_after" \
    "$load_before $(load)" >>"$RESULTS" <<'PY'
import json, sys
path, tool, rate, count, b0, b1, load = sys.argv[1:]
m = json.load(open(path))
print(f"latency\t{tool}\t{rate}\t{m['count']}\t{count}\t{m['p50_ms']}\t{m['p99_ms']}\t{m['max_ms']}\t"
      f"{float(b1) - float(b0):.2f}\t{load}")
PY
  local got
  got=$(python3 -c "import json; print(json.load(open('$RUN/$name.json'))['count'])")
  [ "$got" -eq "$count" ] || fail "$tool at $rate/s: $got of $count events reached the consumer"
}

start_canonry() {
  local name=$1
  canonry_config "$RUN/$name.yaml" "$name" "$name" "$RUN/$name.db" \
    "{checkpoint_interval: $CHECKPOINT, batch_linger: 5ms, progress_interval: 0}"
  setsid "$CANONRY" run "$RUN/$name.yaml" 2>"$RUN/$name.log" &
  PIPELINE_PIDS+=($!)
}

start_flink() {
  local name=$1
  topic "$name.events" 6
  setsid "$FLINK_PYTHON" bench/kafka/pyflink_job.py --bootstrap "$B" --input "$name" \
    --events "$name.events" --state "$RUN/$name.db" --connector "$FLINK_JAR" --unbounded \
    --checkpoint-interval "${CHECKPOINT%ms}" --bundle-time 5 --group "$name" >"$RUN/$name.log" 2>&1 &
  PIPELINE_PIDS+=($!)
}

for rate in $RATES; do
  echo "bench/kafka: canonry latency at $rate messages/s" >&2
  latency canonry "$rate"
done
if ((WITH_FLINK)); then
  for rate in $FLINK_RATES; do
    echo "bench/kafka: PyFlink latency at $rate messages/s" >&2
    latency flink "$rate"
  done
fi

python3 - "$RESULTS" "$MESSAGES" "$PARTITIONS" "$CHECKPOINT" <<'PY' | tee "$OUT/results.txt"
import os, sys
path, messages, partitions, checkpoint = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = [line.rstrip("\n").split("\t") for line in open(path)]
print(f"\nkafka benchmark: Kafka -> pipeline -> Kafka events (transactional) + SQLite state; "
      f"{messages} shop_v1 orders on {partitions} partitions, one broker, {os.cpu_count()} cores")
print(f"{'tool':<15} {'messages':>9} {'wall s':>7} {'cpu s':>7} {'broker cpu s':>12} {'msg/s':>9} "
      f"{'msg/cpu-s':>9} {'canonry speed-up':>20}  load (start end)")
rates = {}
for row in rows:
    if row[0] != "throughput":
        continue
    _, tool, n, wall_ms, cpu, broker, load = row
    rates[tool] = (int(n) / (int(wall_ms) / 1000), int(n) / max(float(cpu), 1e-3))
throughput = {row[1]: row for row in rows if row[0] == "throughput"}
if "PyFlink" in throughput and "PyFlink-startup" in throughput:
    # The rate of the messages beyond the start-up run's, over the time and CPU beyond its.
    _, _, n, wall_ms, cpu, broker, load = throughput["PyFlink"]
    _, _, n0, wall0, cpu0, broker0, _ = throughput["PyFlink-startup"]
    n_net, wall_net, cpu_net = int(n) - int(n0), int(wall_ms) - int(wall0), float(cpu) - float(cpu0)
    if n_net > 0 and wall_net > 0 and cpu_net > 0:
        rates["PyFlink net"] = (n_net / (wall_net / 1000), n_net / cpu_net)
        throughput["PyFlink net"] = ["throughput", "PyFlink net", str(n_net), str(wall_net),
                                     f"{cpu_net:.2f}", f"{float(broker) - float(broker0):.2f}", "-"]
for tool, row in throughput.items():
    _, tool, n, wall_ms, cpu, broker, load = row
    if tool not in rates:
        rates[tool] = (int(n) / (int(wall_ms) / 1000), int(n) / max(float(cpu), 1e-3))
    rate, per_cpu = rates[tool]
    ratio = "-"
    if tool not in ("canonry", "PyFlink-startup") and "canonry" in rates:
        ratio = f"{rates['canonry'][0] / rate:.1f}x, {rates['canonry'][1] / per_cpu:.1f}x cpu"
    print(f"{tool:<15} {int(n):>9} {int(wall_ms) / 1000:>7.2f} {float(cpu):>7.2f} "
          f"{float(broker):>12.2f} {rate:>9.0f} {per_cpu:>9.0f} {ratio:>20}  {load}")
print(f"\nend-to-end latency (producer send -> read_committed consumer), checkpoint_interval "
      f"{checkpoint}")
print(f"{'tool':<15} {'rate/s':>7} {'events':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
      f"{'broker cpu s':>12}  load (start end)")
for row in rows:
    if row[0] != "latency":
        continue
    _, tool, rate, got, expected, p50, p99, worst, broker, load = row
    tool = {"flink": "PyFlink"}.get(tool, tool)
    print(f"{tool:<15} {int(rate):>7} {int(got):>8} {int(p50):>7} {int(p99):>7} {int(worst):>7} "
          f"{float(broker):>12.2f}  {load}")
PY
exit $status
