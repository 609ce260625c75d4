#!/usr/bin/env python3
"""The state a store must hold after a run, computed without any store: reads the lines of
`canonry map --emit-deletes` (canonical records, and {"op":"delete","key":K} for deletes) from
standard input, keeps the last record per key (a delete removes it), and prints the records as
`canonry state dump` does: one line each, as canonry wrote it, sorted bytewise by the key's
compact JSON.

usage: canonry map --emit-deletes ... | expected_state.py KEY_FIELD
"""
import json
import sys


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def main():
    key_field = sys.argv[1]
    state = {}
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        record = json.loads(line)
        if record.get("op") == "delete" and set(record) == {"op", "key"}:
            state.pop(compact(record["key"]), None)
        else:
            state[compact(record[key_field])] = line
    for key in sorted(state, key=lambda k: k.encode()):
        print(state[key])


main()
