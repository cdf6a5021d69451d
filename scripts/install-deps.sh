#!/usr/bin/env bash
# Installs everything procevents_exporter needs to build, run and test, from Debian bookworm
# packages only. Idempotent and non-interactive; run as root.
#   --build-only   just what building the exporter needs (the container image's build stage)
set -euo pipefail

build=(
  cmake g++ make pkg-config git ca-certificates
  prometheus-cpp-dev libboost-dev libyaml-cpp-dev libre2-dev libcrypt-dev zlib1g-dev libssl-dev
  # the protobuf exposition: the library, protoc, and Prometheus' metrics.proto to generate from
  libprotobuf-dev protobuf-compiler golang-github-prometheus-client-model-dev
)
test=(
  catch2 prometheus prometheus-process-exporter yamllint jq curl python3 python3-yaml python3-pytest procps systemd openssl
  jsonnet  # mixin/: renders the shipped rules and dashboard (tests/deploy/check_mixin.sh)
  # hostile-host tests: setpriv, unshare, nsenter, taskset (util-linux), strace
  util-linux strace
  lintian dpkg-dev  # the Debian package check (dpkg-shlibdeps, lintian)
  # fuzzing and sanitizers
  clang libclang-rt-14-dev
)
packages=("${build[@]}")
[[ ${1:-} == --build-only ]] || packages+=("${test[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
