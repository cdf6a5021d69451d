#!/usr/bin/env bash
# Runs every benchmark and prints the figures against their targets. Needs root for the live one.
#   bash bench/run.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
tools=$(cd .. && pwd)/shared/tools
[[ -x $build/bench/pipeline_bench ]] || bash scripts/build.sh
"$build/bench/pipeline_bench" pipeline
"$build/bench/pipeline_bench" scrape
"$build/bench/pipeline_bench" memory   # its own process: the RSS is the state's, not the other runs'
"$build/bench/pipeline_bench" attribution
python3 bench/live_bench.py "$build" "$tools" 5 threads
python3 bench/live_bench.py "$build" "$tools" 5 forks
