#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, and runs every test:
#   1. ctest: unit, real-kernel, integration, overload, deploy and end-to-end (Prometheus) tests
#   2. the unit tests under ASan+UBSan, the threaded parts under TSan
#   3. each libFuzzer target for FUZZ_SECONDS (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 600 | tee build/ctest-output.txt
# Tests skip (with their reason in the output above) where the host lacks a facility; say how many.
echo "ctest: $(grep -c '(Skipped)' build/ctest-output.txt || true) test(s) skipped"
bash scripts/sanitizers.sh
bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
