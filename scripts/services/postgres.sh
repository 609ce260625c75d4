#!/usr/bin/env bash
# PostgreSQL from Debian's packages on a temporary cluster: see lib.sh for the contract.
# env: CANONRY_PG_URI (postgres://canonry@127.0.0.1:PORT/canonry), CANONRY_PG_DATA, CANONRY_PG_PORT.
# Besides start and stop (fault tests):
#   postgres.sh restart DIR [SECONDS_DOWN]  stops the server as a crash would (immediate mode: no
#                                           checkpoint, crash recovery at the next start), keeps it
#                                           down SECONDS_DOWN (default 0) and starts it again on
#                                           the same port and data, returning once it answers.
source "$(dirname "$0")/lib.sh"
[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$1" = restart ]; } || usage_and_exit
action=$1 dir=$2

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "services: PostgreSQL is not installed (scripts/install-deps.sh)" >&2; exit 1; }

# PostgreSQL refuses to run as root; the Debian package made the postgres user for it.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The server's settings, the same at every start of DIR's cluster: server_options PORT DIR
server_options() {
  echo "-p $1 -k $2 -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
}

case $action in
start)
  "$0" stop "$dir"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  port=$(free_port)
  [ "$(id -u)" -ne 0 ] || chown postgres "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U canonry --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "$(server_options "$port" "$dir")" >/dev/null
  wait_until 30 "PostgreSQL on port $port" "$bin/pg_isready" -h 127.0.0.1 -p "$port"
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U canonry canonry
  cat >"$dir/env" <<ENV
CANONRY_PG_URI=postgres://canonry@127.0.0.1:$port/canonry
CANONRY_PG_PORT=$port
CANONRY_PG_DATA=$dir/data
CANONRY_PG_CTL="$bin/pg_ctl"
ENV
  echo "postgres: listening on 127.0.0.1:$port (data in $dir)"
  ;;
restart)
  [ -f "$dir/env" ] || { echo "postgres: nothing started in $dir" >&2; exit 1; }
  port=$(sed -n 's/^CANONRY_PG_PORT=//p' "$dir/env")
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
  sleep "${3:-0}"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "$(server_options "$port" "$dir")" >/dev/null
  wait_until 30 "PostgreSQL on port $port" "$bin/pg_isready" -h 127.0.0.1 -p "$port"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*) usage_and_exit ;;
esac
