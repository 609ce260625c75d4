#!/usr/bin/env bash
# FerretDB v1 (a MongoDB wire-protocol server) with its SQLite backend: see lib.sh for the contract.
# Built once from the Go module proxy into ~/.cache/canonry/ferretdb-VERSION/ (see install_ferretdb).
# env: CANONRY_MONGO_URI (mongodb://127.0.0.1:PORT), CANONRY_MONGO_PORT, CANONRY_FERRETDB_PID.
source "$(dirname "$0")/lib.sh"
[ $# -eq 2 ] || usage_and_exit
action=$1 dir=$2

FERRETDB_VERSION=v1.24.2
cache="${CANONRY_CACHE:-$HOME/.cache/canonry}/ferretdb-$FERRETDB_VERSION"
binary=$cache/ferretdb

# FerretDB v1 compiles its SQLite backend in unless the tag ferretdb_no_sqlite is given (the SQLite
# driver is modernc.org/sqlite, pure Go, so no cgo either): no build tag is needed. Its main package
# panics at start unless build/version/version.txt names the version, a file its release tooling
# generates and the module zip lacks; so the module is fetched from the proxy (`go mod download`),
# copied, given that file, and built with `go build`. The module needs Go 1.24 or newer.
install_ferretdb() {
  [ -x "$binary" ] && return 0
  local go
  go=$(command -v go || true)
  [ -n "$go" ] || [ ! -x /usr/local/go/bin/go ] || go=/usr/local/go/bin/go
  if [ -z "$go" ]; then
    echo "services: building FerretDB needs Go 1.24 or newer on PATH" >&2
    return 1
  fi
  echo "services: building FerretDB $FERRETDB_VERSION into $cache (once)" >&2
  local module work
  module=$(cd /tmp && GOFLAGS=-mod=mod "$go" mod download -json \
    "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  work=$(mktemp -d)
  cp -r "$module/." "$work/"
  chmod -R u+w "$work"
  echo "$FERRETDB_VERSION" >"$work/build/version/version.txt"
  mkdir -p "$cache"
  (cd "$work" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 "$go" build -o "$cache/ferretdb.tmp" ./cmd/ferretdb) >&2
  mv "$cache/ferretdb.tmp" "$binary"
  rm -rf "$work"
}

# True when a MongoDB `ping` on 127.0.0.1:$1 answers ok: one OP_MSG over a raw socket, so that no
# MongoDB client has to be installed to start the server.
mongo_ping() {
  python3 - "$1" <<'PY'
import socket, struct, sys
def cstring(s): return s.encode() + b"\0"
body = b"\x10" + cstring("ping") + struct.pack("<i", 1) \
     + b"\x02" + cstring("$db") + struct.pack("<i", 6) + cstring("admin")
document = struct.pack("<i", len(body) + 5) + body + b"\0"
message = struct.pack("<I", 0) + b"\0" + document              # flag bits, section kind 0
header = struct.pack("<iiii", 16 + len(message), 1, 0, 2013)   # OP_MSG
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    s.sendall(header + message)
    reply = b""
    while len(reply) < 4 or len(reply) < struct.unpack("<i", reply[:4])[0]:
        chunk = s.recv(65536)
        if not chunk: sys.exit(1)
        reply += chunk
ok = reply.find(b"\x01ok\x00")
sys.exit(0 if ok >= 0 and struct.unpack("<d", reply[ok + 4:ok + 12])[0] == 1.0 else 1)
PY
}

case $action in
start)
  "$0" stop "$dir"
  install_ferretdb
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  port=$(free_port)
  # --debug-addr=- : no HTTP debug listener (its default port would collide between runs);
  # --telemetry=disable : nothing leaves the machine; --state-dir : its state.json stays in DIR.
  "$binary" --handler=sqlite --sqlite-url="file:$dir/data/" \
    --listen-addr="127.0.0.1:$port" --debug-addr=- --state-dir="$dir" \
    --telemetry=disable --log-level=warn >"$dir/server.log" 2>&1 &
  echo $! >"$dir/ferretdb.pid"
  wait_until 30 "FerretDB on port $port" mongo_ping "$port" || {
    cat "$dir/server.log" >&2
    exit 1
  }
  cat >"$dir/env" <<ENV
CANONRY_MONGO_URI=mongodb://127.0.0.1:$port
CANONRY_MONGO_PORT=$port
CANONRY_FERRETDB_PID=$(cat "$dir/ferretdb.pid")
ENV
  echo "ferretdb: listening on 127.0.0.1:$port (SQLite files in $dir/data)"
  ;;
stop)
  kill_pidfile "$dir/ferretdb.pid"
  rm -rf "$dir"
  ;;
*) usage_and_exit ;;
esac
