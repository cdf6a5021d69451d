#!/usr/bin/env bash
# Installs dependencies, builds, and starts the exporter in the foreground with its built-in defaults.
# Extra arguments are passed to the exporter (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec ./build/exporter/app/procevents_exporter "$@"
