#!/usr/bin/env python3
"""bench/kafka's helpers (standard library only).

  harness.py cpu OUT -- COMMAND...      runs COMMAND and writes to OUT the CPU seconds (user +
                                        system) of it and of every process it starts: PyFlink's
                                        JVM and Python workers are not waited for by their
                                        parents, so GNU time misses them; this samples /proc
                                        every 100 ms and keeps each process's last figure
  harness.py bounds EVENTS PER_PARTITION  the `--bounds` of pyflink_job.py: each input partition
                                        read up to PER_PARTITION messages, from the
                                        canonry.source headers of canonry's events (EVENTS:
                                        kafka_tool consume lines); prints P:OFFSET,...
  harness.py compare BOUNDS CANONRY_EVENTS FLINK_EVENTS CANONRY_STATE FLINK_STATE
                                        canonry's events from the messages below BOUNDS against
                                        PyFlink's, and the two state dumps on those keys: same
                                        keys, values equal as JSON (bench/map/compare.py's rules);
                                        exit 1 on any difference
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "map"))
from compare import parse, same  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def descendants(root):
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append((int(name), fields))
    out, todo = {}, [root]
    while todo:
        for pid, fields in children.get(todo.pop(), []):
            out[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
            todo.append(pid)
    return out


def cpu(out_path, command):
    process = subprocess.Popen(command)
    seen = {}
    while process.poll() is None:
        seen.update(descendants(process.pid))
        try:
            with open(f"/proc/{process.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            seen[process.pid] = (int(fields[11]) + int(fields[12])) / TICKS
        except OSError:
            pass
        time.sleep(0.1)
    with open(out_path, "w") as f:
        f.write(f"{sum(seen.values()):.2f}\n")
    return process.returncode


def source_position(headers):
    for header in headers.split(","):
        if header.startswith("canonry.source="):
            _, partition, offset = header.split("=", 1)[1].rsplit("/", 2)
            return int(partition), int(offset)
    raise ValueError(f"no canonry.source header in {headers!r}")


def events(path):
    """kafka_tool consume lines: PARTITION, OFFSET, KEY, VALUE, HEADERS."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            yield fields[2], fields[3], fields[4]


def bounds(events_path, per_partition):
    counts = {}
    for _, _, headers in events(events_path):
        partition, offset = source_position(headers)
        counts[partition] = max(counts.get(partition, 0), offset + 1)
    print(",".join(f"{p}:{min(n, per_partition)}" for p, n in sorted(counts.items())))


def compare(bounds_text, canonry_events, flink_events, canonry_state, flink_state):
    limit = {int(p): int(o) for p, o in (b.split(":") for b in bounds_text.split(","))}
    expected = {}
    for key, value, headers in events(canonry_events):
        partition, offset = source_position(headers)
        if offset < limit.get(partition, 0):
            expected[key] = value
    failures = 0

    def check(what, mine, theirs):
        nonlocal failures
        if mine.keys() != theirs.keys():
            only_canonry, only_flink = mine.keys() - theirs.keys(), theirs.keys() - mine.keys()
            print(f"bench/kafka: {what}: {len(only_canonry)} keys only canonry has "
                  f"(e.g. {sorted(only_canonry)[:3]}), {len(only_flink)} only PyFlink has "
                  f"(e.g. {sorted(only_flink)[:3]})", file=sys.stderr)
            failures += 1
        differ = [k for k in mine.keys() & theirs.keys()
                  if not same(parse(mine[k]), parse(theirs[k]))]
        if differ:
            k = differ[0]
            print(f"bench/kafka: {what}: {len(differ)} values differ, e.g. {k}:\n  canonry "
                  f"{mine[k]}\n  PyFlink {theirs[k]}", file=sys.stderr)
            failures += 1
        if not failures:
            print(f"bench/kafka: {what}: {len(mine)} equal")

    got, doubled = {}, 0
    for key, value, _ in events(flink_events):
        doubled += key in got
        got[key] = value
    if doubled:
        print(f"bench/kafka: PyFlink wrote {doubled} events twice", file=sys.stderr)
        failures += 1
    check("events (canonry's on PyFlink's prefix vs PyFlink's)", expected, got)

    def dump(path, keys=None):
        """`canonry state dump` lines (the documents, sorted by key) by their order_id."""
        out = {}
        with open(path, encoding="utf-8") as f:
            for line in f:
                key = json.dumps(json.loads(line)["order_id"], ensure_ascii=False)
                if keys is None or key in keys:
                    out[key] = line
        return out

    check("state (canonry's on PyFlink's keys vs PyFlink's)", dump(canonry_state, expected.keys()),
          dump(flink_state))
    return 1 if failures else 0


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "cpu" and len(sys.argv) > 4 and sys.argv[3] == "--":
        return cpu(sys.argv[2], sys.argv[4:])
    if command == "bounds" and len(sys.argv) == 4:
        return bounds(sys.argv[2], int(sys.argv[3]))
    if command == "compare" and len(sys.argv) == 7:
        return compare(*sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
