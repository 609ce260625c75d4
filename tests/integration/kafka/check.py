#!/usr/bin/env python3
"""Helpers of the Kafka integration tests (standard library only).

  check.py kcat-lines FILE        kcat -J envelopes as kafka_tool lines: KEY<TAB>VALUE (\\N: null)
  check.py no-duplicates FILE     FILE holds read_committed output (PARTITION<TAB>KEY<TAB>VALUE<TAB>
                                  HEADERS); fails when a source message (header canonry.source) was
                                  written twice, or when an output partition holds one source
                                  partition's messages out of source order
  check.py as-map-output FILE     the events as `canonry map --emit-deletes` prints them
"""
import json
import sys


def headers_of(field):
    out = {}
    for item in field.split(",") if field else []:
        name, _, value = item.partition("=")
        out[name] = value
    return out


def kcat_lines(path):
    out = sys.stdout.buffer
    for line in open(path, "rb"):
        line = line.rstrip(b"\n")
        try:
            envelope = json.loads(line.decode("utf-8"))
        except ValueError:
            # A broken envelope (the generator's bad records): the whole line is the message, which
            # the pipeline must send to the DLQ.
            out.write(b"\t" + line.replace(b"\t", b" ") + b"\n")
            continue
        key, payload = envelope.get("key"), envelope.get("payload")
        for text in (key, payload):
            if text is not None and ("\t" in text or "\n" in text):
                sys.exit(f"kcat-lines: a key or payload with a tab or newline in {path}")
        key = b"" if key is None else key.encode("utf-8", "surrogateescape")
        payload = b"\\N" if payload is None else payload.encode("utf-8", "surrogateescape")
        out.write(key + b"\t" + payload + b"\n")


def no_duplicates(path):
    seen = {}
    last = {}
    for number, line in enumerate(open(path, encoding="utf-8", errors="surrogateescape"), 1):
        partition, _key, _value, headers = line.rstrip("\n").split("\t", 3)
        origin = headers_of(headers).get("canonry.source")
        if origin is None:
            sys.exit(f"FAIL: {path}:{number}: no canonry.source header")
        if origin in seen:
            sys.exit(f"FAIL: {path}: {origin} written twice (lines {seen[origin]} and {number})")
        seen[origin] = number
        source, source_partition, offset = origin.rsplit("/", 2)
        stream = (partition, source, source_partition)
        if int(offset) <= last.get(stream, -1):
            sys.exit(f"FAIL: {path}:{number}: {origin} after offset {last[stream]} of the same partition")
        last[stream] = int(offset)
    print(f"ok: {path}: {len(seen)} messages, each source message once, in source order")


def as_map_output(path):
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        _partition, key, value, _headers = line.rstrip("\n").split("\t", 3)
        if value == "\\N":
            print('{"op":"delete","key":' + key + "}")
        else:
            print(value)


if __name__ == "__main__":
    command, path = sys.argv[1], sys.argv[2]
    {"kcat-lines": kcat_lines, "no-duplicates": no_duplicates, "as-map-output": as_map_output}[command](path)
