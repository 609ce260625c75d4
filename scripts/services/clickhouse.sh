#!/usr/bin/env bash
# ClickHouse from Debian's packages (clickhouse-server 18.16, bookworm) on a temporary data
# directory with a config of our own: see lib.sh for the contract.
# env: CANONRY_CLICKHOUSE_URI (clickhouse://127.0.0.1:PORT/canonry), CANONRY_CLICKHOUSE_HTTP
# (http://127.0.0.1:PORT), CANONRY_CLICKHOUSE_PID.
source "$(dirname "$0")/lib.sh"
[ $# -eq 2 ] || usage_and_exit
action=$1 dir=$2

server=$(command -v clickhouse-server || true)
[ -n "$server" ] ||
  { echo "services: ClickHouse is not installed (scripts/install-deps.sh)" >&2; exit 1; }

case $action in
start)
  "$0" stop "$dir"
  mkdir -p "$dir"/{data,tmp,user_files,format_schemas}
  dir=$(cd "$dir" && pwd)
  http_port=$(free_port)
  tcp_port=$(free_port)
  # Loopback only, no interserver port, logs and data inside DIR, the default user without a
  # password and bounded memory: a test server, not the packaged service.
  cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$dir/server.log</log>
    <errorlog>$dir/server.err.log</errorlog>
    <size>100M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http_port</http_port>
  <tcp_port>$tcp_port</tcp_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
</yandex>
XML
  cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
XML
  nohup "$server" --config-file="$dir/config.xml" >"$dir/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
  wait_until 60 "ClickHouse on port $http_port" curl -sf "http://127.0.0.1:$http_port/ping"
  cat >"$dir/env" <<ENV
CANONRY_CLICKHOUSE_URI=clickhouse://127.0.0.1:$http_port/canonry
CANONRY_CLICKHOUSE_HTTP=http://127.0.0.1:$http_port
CANONRY_CLICKHOUSE_PID=$(cat "$dir/pid")
ENV
  echo "clickhouse: listening on 127.0.0.1:$http_port (data in $dir)"
  ;;
stop)
  kill_pidfile "$dir/pid"
  rm -rf "$dir"
  ;;
*) usage_and_exit ;;
esac
