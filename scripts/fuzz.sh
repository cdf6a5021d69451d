#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60) on a scratch copy of
# its committed seed corpus. Fails on any crash, leak, or sanitizer report.
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=build-fuzz
mkdir -p "$out"
cxx=$(command -v clang++-14 || command -v clang++)
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iexporter)
"$cxx" "${flags[@]}" fuzz/parser_fuzz.cpp exporter/connector/parser.cpp exporter/connector/event.cpp -o "$out/parser_fuzz"
"$cxx" "${flags[@]}" fuzz/config_fuzz.cpp exporter/config/config.cpp exporter/config/group_namer.cpp \
  exporter/config/password.cpp exporter/connector/event.cpp -lyaml-cpp -lcrypt -o "$out/config_fuzz"
for target in parser config; do
  corpus=$(mktemp -d)
  cp fuzz/corpus/$target/* "$corpus"/
  echo "fuzzing $target for ${seconds}s"
  "$out/${target}_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/${target}-" "$corpus" 2>&1 | tail -12
  rm -rf "$corpus"
done
