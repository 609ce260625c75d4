#!/usr/bin/env python3
"""Compares two JSON-lines outputs value by value (numbers by value, object keys in any order);
prints the first differences and exits 1 when they differ."""
import json
import sys


def main():
    a_path, b_path = sys.argv[1], sys.argv[2]
    differences = 0
    lines = 0
    with open(a_path) as a, open(b_path) as b:
        for lines, (la, lb) in enumerate(zip(a, b), start=1):
            if json.loads(la) != json.loads(lb):
                differences += 1
                if differences <= 3:
                    print(f"line {lines} differs:\n  {la.strip()[:300]}\n  {lb.strip()[:300]}")
        rest_a, rest_b = sum(1 for _ in a), sum(1 for _ in b)
    if rest_a or rest_b:
        print(f"line counts differ: {lines + rest_a} vs {lines + rest_b}")
        differences += 1
    print(f"compared {lines} lines: {'identical values' if differences == 0 else f'{differences} differ'}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
