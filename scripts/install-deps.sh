#!/usr/bin/env bash
# Installs everything procevents_exporter needs to build, run and test, from Debian bookworm
# packages only. Idempotent and non-interactive; run as root.
set -euo pipefail

packages=(
  # build
  cmake g++ make pkg-config git
  # libraries
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libcrypt-dev zlib1g-dev libssl-dev
  # tests
  catch2 prometheus yamllint jq curl python3 python3-yaml procps systemd openssl
  # fuzzing and sanitizers
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
