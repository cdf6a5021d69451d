#!/usr/bin/env bash
# Runs the tests under sanitizers (g++), each build in its own directory:
#   1. build-asan, AddressSanitizer + UndefinedBehaviorSanitizer (leaks included): every test binary
#      labelled `unit` or `concurrency` (ctest -L).
#   2. build-tsan, ThreadSanitizer: every test labelled `concurrency` (ctest -L concurrency): the
#      ring's two-thread tests, and receiver/pipeline tests once they carry that label. Convention:
#      a binary labelled `concurrency` is named *_concurrency_test, which is how it gets built here.
#   3. the TSan-built exporter (receiver, aggregator and HTTP threads) through a few integration tests
#      against the live kernel. Needs root; skipped otherwise, and when SANITIZERS_SKIP_LIVE=1.
# Any sanitizer report fails the run (halt_on_error). Build dirs can be moved with ASAN_DIR/TSAN_DIR.
#   bash scripts/sanitizers.sh
set -euo pipefail
cd "$(dirname "$0")/.."

asan_dir=${ASAN_DIR:-build-asan}
tsan_dir=${TSAN_DIR:-build-tsan}
jobs=2  # the machines this runs on have 2 cores
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp

# configure <dir> <sanitizers> <optimisation>: a Debug build (asserts on) with line tables only
# (-g1), which is enough for symbolised sanitizer stacks and compiles much faster than -g.
configure() {
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=Debug -DPROCEVENTS_SANITIZE="$2" \
    "-DCMAKE_CXX_FLAGS_DEBUG=$3 -g1" "-DCMAKE_C_FLAGS_DEBUG=$3 -g1" >/dev/null
}

# Builds targets one after another (each with -j): CMake's Makefile generator builds several
# --target arguments in parallel and races on their shared libraries (a half-written archive).
build_targets() {
  local dir=$1 target
  shift
  for target in "$@"; do
    cmake --build "$dir" -j"$jobs" --target "$target"
  done
}

# Test binaries of a configured build dir whose names match an extended regex (from the target list).
test_targets() {
  # "... name" (Makefiles) or "name: phony" (Ninja).
  cmake --build "$1" --target help | sed -En 's/^(\.\.\. )?([A-Za-z0-9_]+)(: phony)?( .*)?$/\2/p' | grep -E "$2" || true
}

# ctest registers a placeholder "<binary>_NOT_BUILT" for a binary that was not built (and gives it no
# label, so ctest -L would silently skip it): refuse to run with any of those among the wanted ones.
require_built() {
  local dir=$1
  shift
  local missing=0 target
  for target in "$@"; do
    if ctest --test-dir "$dir" -N | grep -q "${target}_NOT_BUILT"; then
      echo "sanitizers.sh: $target was not built in $dir" >&2
      missing=1
    fi
  done
  return "$missing"
}

echo "== ASan+UBSan: unit and concurrency tests ($asan_dir)"
configure "$asan_dir" address,undefined -O0
# Live-kernel tests are not run here; their binaries are left out of the build too.
mapfile -t asan_targets < <(test_targets "$asan_dir" '_test$' | grep -v '_live_test$')
((${#asan_targets[@]})) || { echo "sanitizers.sh: no test targets found" >&2; exit 1; }
build_targets "$asan_dir" "${asan_targets[@]}"
require_built "$asan_dir" "${asan_targets[@]}"
ctest --test-dir "$asan_dir" -L '^(unit|concurrency)$' --output-on-failure -j"$jobs" --timeout 300

echo "== TSan: concurrency tests ($tsan_dir)"
configure "$tsan_dir" thread -O1  # TSan's docs advise -O1 for usable speed
mapfile -t tsan_targets < <(test_targets "$tsan_dir" '_concurrency_test$')
((${#tsan_targets[@]})) || { echo "sanitizers.sh: no *_concurrency_test targets found" >&2; exit 1; }
build_targets "$tsan_dir" "${tsan_targets[@]}"
require_built "$tsan_dir" "${tsan_targets[@]}"
# One at a time: TSan slows the threads down a lot and these tests have deadlines.
ctest --test-dir "$tsan_dir" -L '^concurrency$' --output-on-failure --timeout 300

if [[ ${SANITIZERS_SKIP_LIVE:-0} == 1 ]]; then
  echo "== TSan exporter end to end: skipped (SANITIZERS_SKIP_LIVE=1)"
elif ((EUID != 0)); then
  echo "== TSan exporter end to end: skipped (needs root to subscribe to the process events connector)"
else
  echo "== TSan: the exporter end to end ($tsan_dir)"
  cmake --build "$tsan_dir" -j"$jobs" --target procevents_exporter
  # The workload is built without TSan: an instrumented one starts too slowly for the lifetime checks.
  workload=$tsan_dir/procevents_workload_plain
  c++ -std=c++20 -O2 -pthread tests/support/workload.cpp -o "$workload"
  PROCEVENTS_BINARY=$tsan_dir/exporter/app/procevents_exporter PROCEVENTS_WORKLOAD=$workload \
    /usr/bin/python3 -m pytest -v -p no:cacheprovider tests/integration/test_exporter.py::test_counts_are_exact \
    tests/integration/test_exporter.py::test_endpoints_and_lint \
    tests/integration/test_exporter.py::test_sighup_keeps_counters_and_sigterm_exits_cleanly
fi
echo "sanitizers.sh: all clean"
