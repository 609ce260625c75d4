#!/usr/bin/env bash
# The end of `make test`: the pass counts of the conformance suites and golden cases of each
# build configuration, from ctest's logs, and one closing "N passed, M failed" line over all.
set -euo pipefail
cd "$(dirname "$0")/.."
total_passed=0
total_failed=0
for build in "$@"; do
  log="$build/Testing/Temporary/LastTest.log"
  out="$build/ctest.out"
  [ -f "$log" ] && [ -f "$out" ] || continue
  echo "== $build"
  # Runners print "N passed, M failed"; the log frames each test's output with its name.
  awk '
    /^[0-9]+\/[0-9]+ Test: / { name = $3 }
    /^[0-9]+ passed, [0-9]+ failed/ { printf "  %-28s %s\n", name, $0 }
  ' "$log"
  # ctest's own verdict: "100% tests passed, 0 tests failed out of 11".
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$out" | tail -1)
  failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  all=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  echo "  ctest: $((all - failed)) of $all tests passed"
  total_passed=$((total_passed + all - failed))
  total_failed=$((total_failed + failed))
done
echo "$total_passed passed, $total_failed failed"
