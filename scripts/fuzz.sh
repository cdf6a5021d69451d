#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang into build-fuzz/ and runs each for SECONDS
# (default 60) on a scratch copy of its committed seed corpus, so fuzz/corpus/ never grows.
# Exits non-zero when any target crashes, leaks, times out, trips a sanitizer or a harness
# invariant; the input that did it is kept as build-fuzz/<target>-crash-* (or leak-, timeout-, oom-),
# and the target's full log is build-fuzz/<target>.log. Reproduce with build-fuzz/<target>_fuzz <file>.
#   bash scripts/fuzz.sh [SECONDS]
# SECONDS=0 only replays the seed corpus. Needs clang++-14 (or clang++) and libclang-rt-14-dev; FUZZ_CXX overrides the compiler.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [SECONDS]" >&2
  exit 2
fi
cxx=${FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
if [[ -z $cxx ]]; then
  echo "fuzz.sh: no clang++ found (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi

out=build-fuzz
cmake -S fuzz -B "$out" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$out" -j2

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

failed=()
for target in parser taskstats config; do
  corpus=$scratch/$target
  mkdir -p "$corpus"
  cp fuzz/corpus/"$target"/* "$corpus"/
  log=$out/$target.log
  rm -f "$out/$target"-{crash,leak,timeout,oom,slow-unit}-*  # artifacts of an earlier run
  echo "== fuzzing $target for ${seconds}s"
  # -max_total_time=0 would mean "forever": 0 replays the corpus once instead.
  budget=(-max_total_time="$seconds")
  ((seconds > 0)) || budget=(-runs=0)
  # -timeout: one input taking 10 s is a hang. -max_len: well beyond any real datagram or config.
  if "$out/${target}_fuzz" "${budget[@]}" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$out/${target}-" "$corpus" >"$log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  else
    echo "FAILED: ${target}_fuzz (log: $log)"
    grep -E -A40 '^(==[0-9]+==ERROR|.*runtime error:|.*broken invariant:|==[0-9]+== ERROR: libFuzzer)' "$log" | head -60 ||
      tail -40 "$log"
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz.sh: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: no findings"
