#!/usr/bin/env bash
# Runs deploy/systemd/procevents_exporter.service under a real systemd service manager and proves that,
# with every hardening option applied, the exporter still receives the kernel's process events.
#
# systemd is not PID 1 here (containers, CI), so the test starts its own `systemd --user` manager as root
# inside a private mount namespace (a tmpfs on /run/systemd marks "booted with systemd"; a cgroup2 mount
# gives it a cgroup of its own). Only the mount namespace is private: the manager and the exporter stay
# in the host's PID, user and network namespaces, the ones the connector requires. The unit is the
# shipped file with one line changed: ExecStart points at the built binary, the repository's config (both
# staged under /var/lib, which the sandbox leaves readable) and
# a free port on 127.0.0.1.
#
# Checks: the unit starts and /healthz answers 200; in the exporter's /proc/<pid>/status the bounding and
# effective capability sets are CAP_NET_ADMIN only, NoNewPrivs is 1 and a seccomp filter is on; its mount
# namespace is private with /usr read-only and /home empty, while its PID, user and network namespaces
# are the host's; a workload's exact exec count appears in /metrics; `systemctl reload` (SIGHUP) keeps
# the same process healthy; `systemctl stop` ends it cleanly.
#
# Env: PROCEVENTS_BINARY, PROCEVENTS_WORKLOAD (set by ctest). Exit 77 (ctest: skipped) when the machine
# cannot do this (not root, no unshare, no systemd, no cgroup2), except under CI=1 where that fails.
set -euo pipefail

skip() {
  if [[ -n "${CI:-}" ]]; then
    echo "FAIL (CI requires this test): $*" >&2
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

if [[ "${1:-}" != "--inner" ]]; then
  [[ $(id -u) -eq 0 ]] || skip "needs root (a system-wide service manager and CAP_NET_ADMIN)"
  binary=${PROCEVENTS_BINARY:?set PROCEVENTS_BINARY to the built procevents_exporter}
  workload=${PROCEVENTS_WORKLOAD:?set PROCEVENTS_WORKLOAD to the built procevents_workload}
  [[ -x "$binary" && -x "$workload" ]] || skip "build procevents_exporter and procevents_workload first"
  [[ -x /lib/systemd/systemd ]] || skip "no /lib/systemd/systemd (Debian package: systemd)"
  command -v unshare >/dev/null || skip "no unshare (util-linux)"
  grep -qw cgroup2 /proc/filesystems || skip "the kernel has no cgroup2"
  work=$(mktemp -d /tmp/procevents-systemd.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  mkdir -p /run/systemd  # the mount point only; the inner tmpfs hides whatever is in it
  unshare --mount --propagation private true 2>/dev/null || skip "cannot create a mount namespace"
  rc=0
  unshare --mount --propagation private bash "$0" --inner "$work" "$binary" "$workload" || rc=$?
  exit "$rc"
fi

# ---- inside the private mount namespace ----
work=$2
binary=$(readlink -f "$3")
workload=$4
root=$(cd "$(dirname "$0")/../.." && pwd)
shipped="$root/deploy/systemd/procevents_exporter.service"
unit=procevents_exporter.service
export XDG_RUNTIME_DIR="$work/run" SYSTEMD_UNIT_PATH="$work/units"
mkdir -p "$XDG_RUNTIME_DIR" "$SYSTEMD_UNIT_PATH"

# What a booted system has and the sandboxing needs: the "booted" marker and the inaccessible nodes
# that InaccessiblePaths=/ProtectHome= mount over hidden paths.
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
mkdir -p /run/systemd/system /run/systemd/inaccessible
(
  cd /run/systemd/inaccessible
  mkdir -m 0 dir
  install -m 0 /dev/null reg
  mkfifo -m 0 fifo
  mknod -m 0 chr c 0 0
  mknod -m 0 blk b 0 0
  python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")'
  chmod 0 sock
)

# A cgroup of our own (the manager puts its units below it); removed again at the end.
mount -t cgroup2 cgroup2 /sys/fs/cgroup || skip "cannot mount cgroup2"
cgroup="/sys/fs/cgroup/procevents-systemd-test.$$"
mkdir "$cgroup"
echo $$ > "$cgroup/cgroup.procs"

manager=""
# The unit hides /tmp, /var/tmp (PrivateTmp=) and /home (ProtectHome=), where a checkout may well be:
# the binary and the config are staged where the sandbox leaves them readable.
stage=$(mktemp -d /var/lib/procevents-systemd-test.XXXXXX)
cleanup() {
  set +e
  rm -rf "$stage"
  if [[ -n "$manager" ]]; then
    systemctl --user stop "$unit" >/dev/null 2>&1
    timeout 10 systemctl --user exit >/dev/null 2>&1
    for _ in $(seq 50); do kill -0 "$manager" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$manager" 2>/dev/null
    wait "$manager" 2>/dev/null
  fi
  # Everything left in our cgroup was started by this test.
  echo $$ > /sys/fs/cgroup/cgroup.procs
  [[ -e "$cgroup/cgroup.kill" ]] && echo 1 > "$cgroup/cgroup.kill"
  for _ in $(seq 50); do grep -q 'populated 0' "$cgroup/cgroup.events" && break; sleep 0.1; done
  find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
install -m 0755 "$binary" "$stage/procevents_exporter"
install -m 0644 "$root/config/procevents.yml" "$stage/procevents.yml"
binary="$stage/procevents_exporter"
config="$stage/procevents.yml"
sed -e "/^ExecStart=/{s|/usr/local/bin/procevents_exporter|$binary|;s|/etc/procevents_exporter/procevents.yml|$config|;s|\$| --web.listen-address=127.0.0.1:$port|}" \
  "$shipped" > "$SYSTEMD_UNIT_PATH/$unit"
changed=$(diff "$shipped" "$SYSTEMD_UNIT_PATH/$unit" | grep -c '^>' || true)
[[ $changed -eq 1 ]] || { echo "expected exactly the ExecStart line to change, got $changed lines" >&2; exit 1; }
# The few targets a user manager needs to start a service with default dependencies.
printf '[Unit]\nDescription=default\n' > "$SYSTEMD_UNIT_PATH/default.target"
printf '[Unit]\nDescription=basic\n' > "$SYSTEMD_UNIT_PATH/basic.target"
printf '[Unit]\nDescription=shutdown\nDefaultDependencies=no\n' > "$SYSTEMD_UNIT_PATH/shutdown.target"
printf '[Unit]\nDescription=exit\nDefaultDependencies=no\nRequires=shutdown.target\nAfter=shutdown.target\nSuccessAction=exit-force\n' \
  > "$SYSTEMD_UNIT_PATH/exit.target"

/lib/systemd/systemd --user > "$work/manager.log" 2>&1 &
manager=$!
for _ in $(seq 100); do
  systemctl --user is-system-running >/dev/null 2>&1 && break
  [[ $(systemctl --user is-system-running 2>/dev/null || true) =~ ^(running|degraded)$ ]] && break
  kill -0 "$manager" 2>/dev/null || { echo "systemd --user exited:" >&2; cat "$work/manager.log" >&2; exit 1; }
  sleep 0.1
done

fail() {
  echo "FAIL: $*" >&2
  systemctl --user status "$unit" --no-pager -l >&2 || true
  exit 1
}

http_get() {  # prints "<status> <body>"
  python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
except Exception as e:
    print(0, e)
EOF
}

systemctl --user start "$unit" || fail "the unit did not start"
base="http://127.0.0.1:$port"
health=""
for _ in $(seq 100); do
  health=$(http_get "$base/healthz")
  [[ $health == "200 "* ]] && break
  sleep 0.1
done
[[ $health == "200 "* ]] || fail "/healthz: $health"
pid=$(systemctl --user show -p MainPID --value "$unit")
[[ $pid -gt 0 ]] || fail "no MainPID"
echo "exporter running as pid $pid under the hardened unit; /healthz: $health"

# The sandbox really applies to the process...
status=$(cat "/proc/$pid/status")
cap_net_admin=0000000000001000
grep -q "^CapBnd:[[:space:]]*$cap_net_admin$" <<<"$status" || fail "bounding set is not CAP_NET_ADMIN only: $(grep CapBnd <<<"$status")"
grep -q "^CapEff:[[:space:]]*$cap_net_admin$" <<<"$status" || fail "effective set is not CAP_NET_ADMIN only: $(grep CapEff <<<"$status")"
grep -q "^NoNewPrivs:[[:space:]]*1$" <<<"$status" || fail "NoNewPrivs is not set"
grep -q "^Seccomp:[[:space:]]*2$" <<<"$status" || fail "no seccomp filter"
for ns in pid user net; do
  [[ "$(readlink "/proc/$pid/ns/$ns")" == "$(readlink "/proc/$$/ns/$ns")" ]] || fail "the unit left the host's $ns namespace"
done
[[ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink "/proc/$$/ns/mnt")" ]] || fail "no private mount namespace"
if nsenter -t "$pid" -m touch /usr/.procevents-write-test 2>/dev/null; then
  rm -f /usr/.procevents-write-test
  fail "ProtectSystem=strict: /usr is writable for the service"
fi
# ProtectHome=yes mounts an empty mode-000 directory over /home.
[[ "$(nsenter -t "$pid" -m stat -c %a /home)" == 0 ]] || fail "ProtectHome=yes: /home is visible to the service"
echo "sandbox applied: CapBnd=CapEff=CAP_NET_ADMIN, NoNewPrivs=1, Seccomp=2, read-only /usr, /home hidden; host pid/user/net namespaces"

# ...and events still arrive: a workload under a unique name, counted exactly.
name="psd$$"
cp "$workload" "$work/$name"
runs=5
for _ in $(seq $runs); do "$work/$name" exit 0; done
got=""
for _ in $(seq 100); do
  got=$(curl -s "$base/metrics" | awk -v g="procevents_execs_total{groupname=\"$name\"}" '$1 == g {print $2}')
  [[ $got == "$runs" ]] && break
  sleep 0.1
done
[[ $got == "$runs" ]] || fail "procevents_execs_total{groupname=\"$name\"} is '$got', expected $runs"
echo "events flow: procevents_execs_total{groupname=\"$name\"} $got"

systemctl --user reload "$unit" || fail "reload failed"
sleep 0.5
[[ "$(systemctl --user show -p MainPID --value "$unit")" == "$pid" ]] || fail "reload replaced the process"
[[ $(http_get "$base/healthz") == "200 "* ]] || fail "unhealthy after reload"
echo "reload (SIGHUP) kept pid $pid healthy"

systemctl --user stop "$unit"
result=$(systemctl --user show -p Result --value "$unit")
[[ $result == success ]] || fail "stop ended with Result=$result"
echo "stopped cleanly; systemd unit live check passed"
