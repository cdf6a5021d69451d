#!/usr/bin/env bash
# Installs what building needs, builds only what running needs (the exporter, not the
# tests), and starts the exporter in the foreground with its built-in defaults.
# Extra arguments are passed to the exporter (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --build-only
# A fresh tree skips the tests (scripts/build.sh and scripts/test.sh turn them on); an existing one keeps its setting.
tests=()
[[ -f build/CMakeCache.txt ]] || tests=(-DPROCEVENTS_BUILD_TESTS=OFF)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "${tests[@]}" >/dev/null
cmake --build build -j"$(nproc)" --target procevents_exporter
exec ./build/exporter/app/procevents_exporter "$@"
