#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) and runs each.
#   scripts/fuzz.sh            each target for FUZZ_SECONDS (default 60)
#   scripts/fuzz.sh --smoke    each target for 50000 runs from seed 1 (at most 60 s): the CI-sized
#                              run of `make test`, the same inputs every time so that CI repeats
#                              what passed here
#   scripts/fuzz.sh NAME...    only these targets
# A crash stops the run with the reproducer saved under build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
limits=()
smoke=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --smoke) limits=(-seed=1 -runs=50000) smoke=1 ;;
    *) targets+=("$arg") ;;
  esac
done
scripts/install-deps.sh
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCANONRY_FUZZ=ON >/dev/null
fi
cmake --build build-fuzz --target fuzzers -j "$(nproc)"
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
mkdir -p build-fuzz/crashes
passed=0
for name in "${targets[@]}"; do
  # The smoke run starts from the committed seeds alone, so it is the same run everywhere.
  corpus="build-fuzz/corpus/$name"
  ((smoke)) && corpus="build-fuzz/smoke-corpus/$name" && rm -rf "$corpus"
  mkdir -p "$corpus"
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds+=("fuzz/corpus/$name")
  echo "fuzz: $name ${limits[*]:-for ${seconds}s}"
  if ! "build-fuzz/fuzz/$name" "${limits[@]}" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="build-fuzz/crashes/$name-" -print_final_stats=0 "$corpus" "${seeds[@]}" \
      >"build-fuzz/$name.log" 2>&1; then
    tail -40 "build-fuzz/$name.log"
    echo "fuzz: $name FAILED (reproducer in build-fuzz/crashes/)"
    exit 1
  fi
  passed=$((passed + 1))
done
echo "fuzz: ${passed} targets ran clean"
