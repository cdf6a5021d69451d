#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test through ctest (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 600
