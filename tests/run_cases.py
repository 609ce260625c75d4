#!/usr/bin/env python3
"""Runs the data-driven golden cases under tests/cases/<area>/<name>/.

A case is a folder:
  args             the canonry command line after `canonry` (shell quoting), run in a scratch
                   copy of the folder, so relative paths name the case's own files
  stdin            optional: fed to standard input
  expected.stdout  optional: standard output, compared exactly
  expected.stderr  optional: every line must occur somewhere in standard error (timings vary)
  expected.exit    optional: the exit status (default 0)
  expected.FILE    optional: the file FILE the command wrote, compared exactly
  README           optional: what the case shows, for people

Prints one line per failure with a diff, then "N passed, M failed". --update rewrites the
expected.stdout / expected.FILE of failing cases from what the command did (review the diff!).
"""
import argparse
import difflib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def diff(expected, actual, name):
    lines = difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                 f"expected {name}", f"actual {name}", n=2)
    return "".join(list(lines)[:60])


def run_case(canonry, case_dir, update):
    problems = []
    with tempfile.TemporaryDirectory(prefix="canonry-case-") as scratch:
        work = os.path.join(scratch, "case")
        shutil.copytree(case_dir, work)
        args = shlex.split(read(os.path.join(case_dir, "args")))
        stdin_path = os.path.join(case_dir, "stdin")
        stdin = read(stdin_path, "rb") if os.path.exists(stdin_path) else b""
        try:
            proc = subprocess.run([canonry] + args, cwd=work, input=stdin, capture_output=True,
                                  timeout=120)
        except subprocess.TimeoutExpired:
            return ["timed out after 120 s"]
        stdout = proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        exit_path = os.path.join(case_dir, "expected.exit")
        want_exit = int(read(exit_path).strip()) if os.path.exists(exit_path) else 0
        if proc.returncode != want_exit:
            problems.append(f"exit status {proc.returncode}, expected {want_exit}\n"
                            f"stderr:\n{stderr[:2000]}")
        for entry in sorted(os.listdir(case_dir)):
            if not entry.startswith("expected.") or entry in ("expected.exit",):
                continue
            target = entry[len("expected."):]
            expected_path = os.path.join(case_dir, entry)
            expected = read(expected_path)
            if target == "stderr":
                for line in expected.splitlines():
                    if line and line not in stderr:
                        problems.append(f"stderr lacks: {line}\nstderr was:\n{stderr[:2000]}")
                continue
            if target == "stdout":
                actual = stdout
            else:
                produced = os.path.join(work, target)
                if not os.path.exists(produced):
                    problems.append(f"the command wrote no file {target}")
                    continue
                actual = read(produced)
            if actual != expected:
                if update:
                    with open(expected_path, "w") as f:
                        f.write(actual)
                    problems.append(f"updated {entry}")
                else:
                    problems.append(diff(expected, actual, target))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--canonry", required=True, help="path of the canonry binary")
    parser.add_argument("--update", action="store_true", help="rewrite expectations that differ")
    parser.add_argument("--filter", default="", help="only cases whose path contains this")
    parser.add_argument("root", help="tests/cases")
    options = parser.parse_args()
    canonry = os.path.abspath(options.canonry)

    cases = []
    for dirpath, _dirnames, filenames in os.walk(options.root):
        if "args" in filenames and options.filter in dirpath:
            cases.append(dirpath)
    cases.sort()
    failed = 0
    for case in cases:
        problems = run_case(canonry, case, options.update)
        if problems:
            failed += 1
            print(f"FAIL {os.path.relpath(case, options.root)}")
            for problem in problems:
                print("  " + problem.replace("\n", "\n  "))
    print(f"{len(cases) - failed} passed, {failed} failed")
    return 1 if failed or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
