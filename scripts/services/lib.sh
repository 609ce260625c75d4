# Shared by scripts/services/NAME.sh: each starts one real service on 127.0.0.1 for the tests.
#
# Contract of a service script (see scripts/services/README.md):
#   NAME.sh start DIR   installs what is missing, starts the service with its data in DIR on a free
#                       loopback port, waits until it answers, and writes DIR/env: KEY=VALUE lines
#                       that tests source (e.g. CANONRY_PG_URI=postgres://...).
#   NAME.sh stop DIR    stops it and removes DIR.
# Both are idempotent, so a test run that died half-way is cleaned up by the next one.

set -euo pipefail

# A TCP port on 127.0.0.1 that nothing listens on now. The kernel picks it, so parallel test runs
# do not collide.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until SECONDS DESCRIPTION COMMAND...: runs COMMAND every 0.2 s until it succeeds.
wait_until() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "services: $what did not come up within ${seconds}s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# kill_pidfile FILE: stops the process FILE names (TERM, then KILL after 10 s) if it still runs.
kill_pidfile() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

usage_and_exit() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
