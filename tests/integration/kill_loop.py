#!/usr/bin/env python3
"""Kill a command with SIGKILL at random moments, a given number of times, each run restarted
from where the last one left off.

    kill_loop.py --times 10 --watch OUT_FILE --total BYTES [--seed N] -- COMMAND...

A kill lands either at a random moment of start-up and recovery (0 to 40 ms after the start) or,
more often, once the watched output file has grown by a random 1 % to 6 % of BYTES (its size
after an uninterrupted run). Measuring progress instead of time makes every kill land mid-run
on a fast machine as on a loaded one: ten runs together make at most about 60 % of the progress
of one run, so the last never finishes before its kill.

Exits 0 after the kills, 3 if a run finished before its kill (the caller starts over on fresh
outputs), 1 if a run failed on its own.
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import time

POLL_SECONDS = 0.002


def size_of(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--times", type=int, default=10)
    parser.add_argument("--watch", required=True, help="an output file the command appends to")
    parser.add_argument("--total", type=int, required=True, help="its size after a clean run")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or args.total <= 0:
        parser.error("a command and a positive --total are required")
    rng = random.Random(args.seed)
    for kill in range(1, args.times + 1):
        started_at = size_of(args.watch)
        during_startup = rng.random() < 0.3
        delay = rng.uniform(0.0, 0.040)
        target = started_at + int(args.total * rng.uniform(0.01, 0.06))
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        start = time.monotonic()
        while process.poll() is None:
            if during_startup and time.monotonic() - start >= delay:
                break
            if not during_startup and size_of(args.watch) >= target:
                break
            time.sleep(POLL_SECONDS)
        if process.poll() is not None:
            if process.returncode == 0:
                print(f"run {kill} finished before its kill", flush=True)
                return 3
            print(f"FAIL: run {kill} exited with {process.returncode} before its kill",
                  file=sys.stderr)
            return 1
        process.send_signal(signal.SIGKILL)
        process.wait()
        moment = (f"{(time.monotonic() - start) * 1000:.0f} ms after the start" if during_startup
                  else f"output at {size_of(args.watch)} of {args.total} bytes")
        print(f"kill {kill}: {moment}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
