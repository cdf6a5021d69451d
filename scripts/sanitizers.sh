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
cmake --build build-tsan -j"$(nproc)" --target ring_test procevents_exporter procevents_workload
ctest --test-dir build-tsan -L concurrency --output-on-failure
# The real pipeline's threads, end to end, under TSan.
ctest --test-dir build-tsan -R 'integration.test_(counts_are_exact|endpoints_and_lint)' --output-on-failure
