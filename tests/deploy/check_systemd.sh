#!/usr/bin/env bash
# The hardened unit file is valid for systemd (the binary path is faked: verify wants it to exist).
set -euo pipefail
unit="$(cd "$(dirname "$0")/../../deploy/systemd" && pwd)/procevents_exporter.service"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/usr/local/bin"
sed "s|/usr/local/bin/procevents_exporter|$work/usr/local/bin/procevents_exporter|" "$unit" > "$work/procevents_exporter.service"
printf '#!/bin/sh\n' > "$work/usr/local/bin/procevents_exporter"
chmod +x "$work/usr/local/bin/procevents_exporter"
output=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$work/procevents_exporter.service" 2>&1 || true)
# Without systemd as PID 1 (containers, CI) verify still parses the unit; only complaints about the
# file itself count.
if grep -E "procevents_exporter.service:[0-9]+:|Unknown (key|section)|Failed to parse" <<<"$output"; then
  echo "systemd-analyze found problems in the unit" >&2
  exit 1
fi
grep -q '^CapabilityBoundingSet=CAP_NET_ADMIN$' "$unit"
! grep -Eq '^(PrivateNetwork|PrivatePIDs)=yes|^ProtectProc=invisible' "$unit"
echo "systemd unit OK"
