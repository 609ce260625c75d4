#!/usr/bin/env python3
"""Checks that mapping outputs agree: compare.py [--limit N] FILE FILE...

Each line is parsed as JSON and compared with the same line of the first file: objects as sets of
members (member order is not compared), numbers by decimal value (12.50 equals 12.5, as a double
from jq equals the digits canonry writes), strings, booleans and null exactly, and a boolean never
equals a number. Prints a line per file; the first differences are shown. Exit 1 on any
difference, including a different number of lines.
"""
import argparse
import json
import sys
from decimal import Decimal
from itertools import islice


def parse(line):
    return json.loads(line, parse_float=Decimal, parse_int=Decimal)


def same(a, b):
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, help="compare only the first N lines")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    reference, others = args.files[0], args.files[1:]
    streams = [open(name, "rb") for name in args.files]
    lines = zip(*streams) if args.limit is None else islice(zip(*streams), args.limit)
    differences = [0] * len(others)
    compared = 0
    for number, row in enumerate(lines, 1):
        compared = number
        expected = parse(row[0])
        for i, line in enumerate(row[1:]):
            if not same(expected, parse(line)):
                differences[i] += 1
                if differences[i] <= 3:
                    print(f"line {number}: {others[i]} differs from {reference}\n"
                          f"  {row[0].decode().rstrip()}\n  {line.decode().rstrip()}",
                          file=sys.stderr)
    if args.limit is None or compared < args.limit:
        # Every stream must be exhausted together: zip stops at the shortest.
        leftovers = [sum(1 for _ in stream) for stream in streams]
        for name, count in zip(args.files, leftovers):
            if count:
                print(f"{name}: {count} more lines than the shortest output", file=sys.stderr)
                differences = [d + 1 for d in differences] if differences else [1]
    for name, count in zip(others, differences):
        print(f"compare: {name}: {compared} lines, {count} differing from {reference}")
    return 1 if any(differences) else 0


if __name__ == "__main__":
    sys.exit(main())
