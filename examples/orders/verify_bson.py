#!/usr/bin/env python3
"""Cross-checks the BSON that generate.py encodes by hand against pymongo's bson module.

  bench/.venv/bin/python examples/orders/verify_bson.py [--count N] [--seed S]

Generates shop_v1 documents as BSON and as extended JSON from one seed, decodes the BSON with
pymongo's decoder and the JSON with pymongo's extended JSON reader, and requires every document to
be equal, type for type (Decimal128, ObjectId, datetime, double, string), integers by value\n(relaxed extended JSON does not tell int32 from int64). scripts/install-bench-deps.sh
installs pymongo into bench/.venv.
"""
import argparse
import os
import sys
import tempfile

import bson
from bson import json_util

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402


def widen(value):
    """Relaxed extended JSON writes int32 and int64 alike, so only their values can be compared."""
    if isinstance(value, dict):
        return {k: widen(v) for k, v in value.items()}
    if isinstance(value, list):
        return [widen(v) for v in value]
    if isinstance(value, bson.int64.Int64):
        return int(value)
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    options = json_util.JSONOptions(json_mode=json_util.JSONMode.CANONICAL,
                                    tz_aware=False)
    with tempfile.TemporaryDirectory() as scratch:
        paths = {}
        for fmt in ("bson", "json"):
            paths[fmt] = os.path.join(scratch, "shop_v1." + fmt)
            generate.main(["--source", "shop_v1", "--format", fmt, "--count", str(args.count),
                           "--seed", str(args.seed), "--out", paths[fmt]])
        with open(paths["bson"], "rb") as f:
            from_bson = bson.decode_all(f.read())
        with open(paths["json"], encoding="utf-8") as f:
            from_json = [json_util.loads(line, json_options=options) for line in f]
    if len(from_bson) != len(from_json):
        print(f"{len(from_bson)} BSON documents, {len(from_json)} JSON lines", file=sys.stderr)
        return 1
    mismatches = 0
    for number, (b, j) in enumerate(zip(from_bson, from_json), 1):
        b_text = json_util.dumps(widen(b), json_options=options)
        j_text = json_util.dumps(widen(j), json_options=options)
        if b_text != j_text:
            mismatches += 1
            if mismatches <= 3:
                print(f"document {number} differs:\n bson {b_text}\n json {j_text}",
                      file=sys.stderr)
    print(f"{len(from_bson) - mismatches} passed, {mismatches} failed")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
