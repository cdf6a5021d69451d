#!/usr/bin/env bash
# The Debian package's proof, like deploy/verify-image.sh for the image: build the .deb with cpack, install
# it with apt into a clean debootstrapped bookworm root (apt resolves its dependencies from the archive), start
# the installed binary there (chroot: the host's network, PID and user namespaces, as the connector needs) and
# find a workload's execs in /metrics; then the same binary with TLS and basic auth from a web config, checked
# by its own --healthcheck (no credentials, TLS found by itself); finally purge it.
#   sudo bash deploy/verify-deb.sh [BUILD_DIR]     (a few minutes the first time: debootstrap; not part of CI)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
export DEBIAN_FRONTEND=noninteractive
for tool in debootstrap curl openssl cpack dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { apt-get update -qq; apt-get install -y -qq debootstrap curl openssl cmake dpkg-dev; break; }
done

# 1. The package, from the same CMake project.
[[ -f $build/CMakeCache.txt ]] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROCEVENTS_BUILD_TESTS=OFF
cmake --build "$build" -j"$(nproc)" --target procevents_exporter
work=$(mktemp -d)
root=$(mktemp -d /var/tmp/procevents-deb-root.XXXXXX)
log=$work/exporter.log
cleanup() {
  # Never `kill 0`: that would signal this whole process group, the script included.
  if ((${run_pid:-0} > 0)); then
    kill "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
  umount "$root/dev" "$root/proc" 2>/dev/null || true
  rm -rf "$work"
  # Never remove the root while the host's /dev is mounted in it.
  if mountpoint -q "$root/dev" || mountpoint -q "$root/proc"; then
    echo "deb: $root still has mounts; left in place" >&2
  else
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT
cpack --config "$build/CPackConfig.cmake" -B "$work/out" >/dev/null
deb=$(ls "$work"/out/procevents-exporter_*.deb)
echo "deb: built $(basename "$deb")"

# 2. A clean bookworm root (cached like verify-image.sh's), copied so every run starts clean.
base=/var/tmp/procevents-bookworm-rootfs
[[ -d $base/etc ]] || debootstrap --variant=minbase bookworm "$base" >/dev/null
cp -a "$base/." "$root/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" "$@"; }
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; echo "deb: apt could not install it" >&2; exit 1; }
in_root dpkg-query -W -f='${Status} ${Version}\n' procevents-exporter
for path in /usr/bin/procevents_exporter /etc/procevents_exporter/procevents.yml /etc/default/procevents_exporter \
  /lib/systemd/system/procevents_exporter.service /usr/share/man/man1/procevents_exporter.1.gz; do
  [[ -e $root$path ]] || { echo "deb: $path is not installed" >&2; exit 1; }
done
in_root /usr/bin/procevents_exporter --version

# 3. The installed binary counts a workload's execs.
start() {
  port=$1
  shift
  # chroot execs the exporter: $! is the exporter's pid.
  chroot "$root" /usr/bin/procevents_exporter --config.file=/etc/procevents_exporter/procevents.yml \
    --web.listen-address=127.0.0.1:"$port" "$@" >"$log" 2>&1 &
  run_pid=$!
  for _ in $(seq 100); do in_root /usr/bin/procevents_exporter --healthcheck=http://127.0.0.1:"$port"/healthz \
    2>/dev/null && return 0; sleep 0.2; done
  cat "$log"
  echo "deb: the installed exporter did not become healthy" >&2
  exit 1
}
stop() {
  kill "$run_pid" || { cat "$log"; echo "deb: the exporter is gone" >&2; exit 1; }
  wait "$run_pid" || true
  run_pid=0
}
port=19671
start $port
name=pedeb$$
mkdir "$work/bin"
cp /bin/true "$work/bin/$name"
for _ in 1 2 3 4 5; do "$work/bin/$name"; sleep 0.05; done
sleep 1
count=$(curl -sf "http://127.0.0.1:$port/metrics" | awk -v g="groupname=\"$name\"" '$1 ~ /^procevents_execs_total/ && index($1, g) {print $2}')
echo "deb: procevents_execs_total{groupname=\"$name\"} = ${count:-none}"
[[ ${count:-0} == 5 ]] || { cat "$log"; exit 1; }
stop

# 4. TLS and basic auth from a web config: TLS works from the runtime libraries alone (no libssl-dev), and --healthcheck needs neither credentials nor https:// to say healthy.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$root/etc/procevents_exporter/tls.key" -out "$root/etc/procevents_exporter/tls.crt" 2>/dev/null
hash=$(python3 -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**6)))' 2>/dev/null)
printf 'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\nbasic_auth_users:\n  prometheus: "%s"\n' "$hash" \
  > "$root/etc/procevents_exporter/web.yml"
port=19672
start $port --web.config.file=/etc/procevents_exporter/web.yml
[[ $(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/metrics") == 401 ]] ||
  { echo "deb: /metrics without credentials is not 401" >&2; exit 1; }
curl -sfk -u prometheus:s3cret "https://127.0.0.1:$port/metrics" | grep -E '^procevents_(connector_up|build_info)'
stop

# 5. Maintainer scripts: remove and purge without systemd running.
in_root apt-get purge -y -qq procevents-exporter >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; exit 1; }
[[ ! -e $root/usr/bin/procevents_exporter ]] || { echo "deb: purge left the binary" >&2; exit 1; }
echo "deb verified: apt installed it into a clean bookworm root, it counted a workload's execs, served TLS with basic auth, and purged cleanly"
