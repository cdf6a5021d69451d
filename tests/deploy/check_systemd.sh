#!/usr/bin/env bash
# Static checks of deploy/systemd/procevents_exporter.service: the hardening is there, nothing cuts the
# exporter off from the connector (host network, PID and user namespaces, all of /proc), and
# `systemd-analyze verify` finds no problem. check_systemd_live.sh runs the unit for real.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
unit="$root/deploy/systemd/procevents_exporter.service"
errors=0
error() {
  echo "$unit: $*" >&2
  errors=$((errors + 1))
}

# Every value of KEY in [Service], one per line.
values() { awk -v key="$1" '/^\[/ {s = $0} s == "[Service]" && index($0, key "=") == 1 {print substr($0, length(key) + 2)}' "$unit"; }
require() { values "$1" | grep -qxF -- "$2" || error "needs $1=$2"; }

require ExecStart "/usr/local/bin/procevents_exporter --config.file=/etc/procevents_exporter/procevents.yml \$ARGS"
require EnvironmentFile "-/etc/default/procevents_exporter"
# Documentation= names only what ships: the man page and the installed README, both in this tree.
doc=$(awk -F= '/^Documentation=/ {print $2}' "$unit")
[[ $doc == "man:procevents_exporter(1) file:/usr/local/share/doc/procevents-exporter/README.md" ]] ||
  error "Documentation= must name man:procevents_exporter(1) and the installed README, not $doc"
[[ -f $root/docs/procevents_exporter.1 && -f $root/README.md ]] || error "the man page or README is missing"
require ExecReload "/bin/kill -HUP \$MAINPID"
require Restart on-failure
require CapabilityBoundingSet CAP_NET_ADMIN
for key in NoNewPrivileges ProtectHome PrivateTmp PrivateDevices ProtectKernelTunables ProtectKernelModules \
  ProtectKernelLogs ProtectControlGroups ProtectClock ProtectHostname RestrictNamespaces RestrictRealtime \
  RestrictSUIDSGID LockPersonality MemoryDenyWriteExecute; do
  require "$key" yes
done
require ProtectSystem strict
require RestrictAddressFamilies "AF_NETLINK AF_INET AF_INET6 AF_UNIX"
require SystemCallArchitectures native
require SystemCallFilter @system-service

# Options that would silently stop events: the connector ignores subscribers outside the host's
# network, PID and user namespaces, and the exporter reads every /proc/<pid>.
for key in PrivateNetwork PrivatePIDs PrivateUsers DynamicUser; do
  values "$key" | grep -qvixE 'no|false|0|off' && error "$key= cuts the exporter off from the connector"
done
for key in NetworkNamespacePath JoinsNamespaceOf User; do
  values "$key" | grep -q . && error "$key= moves the exporter out of the host's namespaces or root"
done
values ProtectProc | grep -qvx default && error "ProtectProc= hides other processes' /proc entries"
values ProcSubset | grep -qx pid && error "ProcSubset=pid hides /proc/stat"

# The config path is the one the image and the DaemonSet use.
grep -q -- '--config.file=/etc/procevents_exporter/procevents.yml' "$root/deploy/kubernetes/daemonset.yaml" ||
  error "the DaemonSet reads its config from another path"

if ! command -v systemd-analyze >/dev/null; then
  [[ $errors -eq 0 ]] || exit 1
  echo "unit directives OK; SKIP systemd-analyze verify: not installed (Debian package: systemd)"
  exit 0
fi

# verify wants ExecStart's binary to exist: point it at an executable stand-in.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\n' > "$work/procevents_exporter"
chmod +x "$work/procevents_exporter"
sed "s|/usr/local/bin/procevents_exporter|$work/procevents_exporter|" "$unit" > "$work/procevents_exporter.service"
# verify also runs man(1) for Documentation=man: links: the page from this tree must be found.
mkdir -p "$work/man/man1"
cp "$root/docs/procevents_exporter.1" "$work/man/man1/"
output=$(MANPATH="$work/man" SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$work/procevents_exporter.service" 2>&1) ||
  error "systemd-analyze verify failed: $output"
# verify exits 0 on unknown keys and bad values; its messages name the file and line.
if grep -E "procevents_exporter\.service:[0-9]+:|Unknown (key|section)|Failed to parse|[Ii]nvalid" <<<"$output"; then
  error "systemd-analyze verify complains (above)"
fi

# A guard against losing hardening by accident: systemd's own exposure score (0 best, 10 worst).
if score=$(systemd-analyze security --offline=yes "$work/procevents_exporter.service" 2>/dev/null | sed -n 's/.*exposure level for .*: \([0-9.]*\).*/\1/p'); then
  if [[ -n $score ]]; then
    awk -v s="$score" 'BEGIN {exit !(s <= 2.5)}' || error "systemd-analyze security exposure $score > 2.5"
    echo "systemd-analyze security exposure: $score"
  fi
fi

[[ $errors -eq 0 ]] || exit 1
echo "systemd unit OK: directives and systemd-analyze verify"
