#!/usr/bin/env bash
# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer; the ring's concurrency tests and the
# whole exporter (threads: receiver, aggregator, HTTP) under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPROCEVENTS_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j"$(nproc)" --target connector_test ring_test aggregator_test config_test metrics_test \
  attribution_test
ctest --test-dir build-asan -L unit --output-on-failure -j2

cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROCEVENTS_SANITIZE=thread >/dev/null
cmake --build build-tsan -j"$(nproc)" --target ring_test procevents_exporter
./build-tsan/tests/ring/ring_test  # the two-thread tests
# The real pipeline's threads (receiver, aggregator, HTTP) end to end under TSan, driven by the normal
# workload binary (a TSan-built workload starts too slowly for the lifetime assertions).
[[ -x build/tests/support/procevents_workload ]] || cmake --build build -j"$(nproc)" --target procevents_workload
PROCEVENTS_BINARY=build-tsan/exporter/app/procevents_exporter PROCEVENTS_WORKLOAD=build/tests/support/procevents_workload \
  python3 tests/integration/test_exporter.py test_counts_are_exact test_endpoints_and_lint test_sighup_keeps_counters_and_sigterm_exits_cleanly
