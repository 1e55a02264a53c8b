#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it (after scripts/setup.sh and the normal build):
#   1. the normal build's tests, end-to-end tests included;
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build (one build, both checks) of
#      everything that does not load the embedded store (libchdb.so crashes at start under ASan)
#      and its tests;
#   3. the libFuzzer targets (clang, ASan), each run for a bounded time (FUZZ_SECONDS, default
#      30 s each);
#   4. an UndefinedBehaviorSanitizer build of the tests the second stage cannot run: those that
#      load the store or link its library, and the allocation counters (all but the web UI's
#      browser tests).
# Every test thus runs once unsanitized and once under UBSan, and under ASan where it can, with
# three builds of the code and two of the tests.
# Each build keeps its folder, so reruns are incremental.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="${JOBS:-$(nproc)}"
fuzz_seconds="${FUZZ_SECONDS:-30}"
status=0

section() { printf '\n=== %s ===\n' "$*"; }
# Each stage's temporary files go to a folder of its build, emptied before the stage: the tests
# that open the embedded store leave without removing their directories (chdb_test_main.cc), and
# /tmp must not grow by a hundred data directories every run.
fresh_tmp() { rm -rf "$1/tmp"; mkdir -p "$1/tmp"; printf '%s' "$root/$1/tmp"; }

section "normal build: unit, integration and end-to-end tests"
TMPDIR="$(fresh_tmp build)" ctest --test-dir build --output-on-failure -j "$jobs" || status=1

section "AddressSanitizer + UBSan build: everything that does not load the embedded store"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTACKHOUSE_SANITIZE=address,undefined -DSTACKHOUSE_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
# e2e_harness runs none of our code (node against a fake server); the normal build runs it.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  TMPDIR="$(fresh_tmp build-asan)" \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -E '^e2e_harness$' || status=1

# libFuzzer needs clang; only the fuzz targets (and what they link) are built here. (The ASan
# tests above use GCC: with clang 14 the stack dumper's libdw does not resolve file:line.)
section "libFuzzer targets (clang, ASan), ${fuzz_seconds} s each"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSTACKHOUSE_SANITIZE=address -DSTACKHOUSE_FUZZ=ON -DSTACKHOUSE_BENCH=OFF >/dev/null
mapfile -t fuzz_targets < <(ninja -C build-fuzz -t targets all | grep -oE '^[a-z0-9_]+_fuzzer:' | grep -v '^cmake_' | tr -d ':' | sort -u)
cmake --build build-fuzz -j "$jobs" --target "${fuzz_targets[@]}"
# A target <area>_<what>_fuzzer takes its seeds from tests/fixtures/<area>/corpus/<what>.
while IFS= read -r fuzzer; do
  name="$(basename "$fuzzer")"
  stem="${name%_fuzzer}"
  corpus="$root/tests/fixtures/${stem%%_*}/corpus/${stem#*_}"
  work="$(mktemp -d)"
  args=("$work")
  [ -d "$corpus" ] && args+=("$corpus")
  # A dictionary beside the target's sources, when there is one: tests/<area>/fuzz/<name>.dict.
  dict="$root/tests/${stem%%_*}/fuzz/${stem}.dict"
  [ -f "$dict" ] && args=("-dict=$dict" "${args[@]}")
  echo "--- $name"
  if ! "$fuzzer" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$work/" -print_final_stats=1 "${args[@]}" >"$work/log" 2>&1; then
    tail -40 "$work/log"
    echo "FAILED: $name found a crash; the input is kept in $work"
    status=1
  else
    grep -E 'stat::number_of_executed_units|Done' "$work/log" | tail -2
    rm -rf "$work"
  fi
done < <(find build-fuzz -type f -name '*_fuzzer' -perm -u+x | sort)

section "UndefinedBehaviorSanitizer build: the tests an ASan build cannot run"
cmake -S . -B build-ubsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTACKHOUSE_SANITIZE=undefined -DSTACKHOUSE_NO_ASAN_TESTS_ONLY=ON -DSTACKHOUSE_BENCH=OFF >/dev/null
cmake --build build-ubsan -j "$jobs"
# The web UI's browser tests (e2e_ui*) are left out here: what they add over the API tests is the
# page's own script, which no C++ sanitizer sees; the normal build runs them.
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TMPDIR="$(fresh_tmp build-ubsan)" \
  ctest --test-dir build-ubsan --output-on-failure -j "$jobs" -E '^e2e_ui' || status=1

section "summary"
if [ "$status" -eq 0 ]; then echo "all test stages passed"; else echo "some test stage FAILED"; fi
exit "$status"
