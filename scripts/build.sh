#!/usr/bin/env bash
# Configures and builds everything, tests included, into ./build (Release-like, with debug info). Extra args
# go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROCEVENTS_BUILD_TESTS=ON "$@" >/dev/null
cmake --build build -j"$(nproc)"
