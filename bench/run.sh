#!/usr/bin/env bash
# Runs every benchmark and prints the figures against their targets. Self-contained: the floors and
# storms of the live benchmark are built from bench/*.c. The live part needs root; without it, or
# with SKIP_LIVE=1, only the kernel-free benchmarks run. The real-workload benchmark builds this
# project from clean trees BUILD_RUNS times with and without the exporter (default 3, plus one
# build for the names check; BUILD_TARGET, default procevents_exporter, "all" for everything);
# BUILD_RUNS=0 skips it.
#   bash bench/run.sh [build-dir] [live-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-5}
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" -j"$(nproc)" --target pipeline_bench live_bench_tools
load() { echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"; }

load
"$build/bench/pipeline_bench" pipeline
"$build/bench/pipeline_bench" scrape
"$build/bench/pipeline_bench" memory   # its own process: the RSS is the state's, not the other runs'
"$build/bench/pipeline_bench" attribution

if [[ $(id -u) -ne 0 || ${SKIP_LIVE:-0} == 1 ]]; then
  echo "live benchmarks skipped (need root; SKIP_LIVE=${SKIP_LIVE:-0})"
  exit 0
fi
load
python3 bench/rest_bench.py "$build/exporter/app/procevents_exporter" 30
for storm in threads exec paced; do
  load
  python3 bench/live_bench.py "$build" "$seconds" "$storm"
done
if [[ ${BUILD_RUNS:-3} -gt 0 ]]; then
  load
  target=${BUILD_TARGET:-procevents_exporter}
  python3 bench/build_bench.py "$build/exporter/app/procevents_exporter" "${BUILD_RUNS:-3}" \
    $([[ $target == all ]] || echo "$target")
fi
