# Shared by the benchmarks' run.sh scripts: timing a tool's runs the same way everywhere.

# bench_run OUT NAME COMMAND...: runs COMMAND once and appends to OUT/NAME.runs a line with its wall
# time in ms (from the clock), then peak RSS in KiB, user and system seconds (GNU time). CPU time is
# kept beside wall time because the machine may be shared: a busy neighbour stretches the wall
# time of a run, not the CPU time it needs. bench/report.py reads these files.
bench_run() {
  local out=$1 name=$2
  shift 2
  local start end
  start=$(date +%s%N)
  if ! /usr/bin/time -f '%M %U %S' -o "$out/$name.time" "$@"; then
    echo "bench: $name failed: $*" >&2
    return 1
  fi
  end=$(date +%s%N)
  echo "$(((end - start) / 1000000)) $(tail -1 "$out/$name.time")" >>"$out/$name.runs"
}
