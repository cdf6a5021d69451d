#!/usr/bin/env bash
# The container image's proof: build the Dockerfile, start the exporter from the image in the host's
# network and PID namespaces, run a workload, and find its execs in /metrics.
# No Docker engine is needed: a debootstrapped bookworm base, buildah (chroot isolation) to build and run.
#   sudo bash deploy/verify-image.sh          (takes several minutes; not part of CI)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
for tool in buildah podman debootstrap curl; do
  command -v "$tool" >/dev/null || { apt-get update -qq; apt-get install -y -qq buildah podman debootstrap curl; break; }
done

if ! podman image exists docker.io/library/debian:bookworm; then
  base=/var/tmp/procevents-bookworm-rootfs
  [[ -d $base/etc ]] || debootstrap --variant=minbase bookworm "$base" >/dev/null
  tar -C "$base" -c . | podman import - docker.io/library/debian:bookworm >/dev/null
fi
version=$(sed -n 's/^project(procevents_exporter VERSION \([^ )]*\).*/\1/p' CMakeLists.txt)
buildah bud --pull=never --isolation chroot --format docker -t procevents_exporter \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg BRANCH="$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)" .
buildah inspect --type image procevents_exporter | python3 -c '
import json, sys
labels, version = json.load(sys.stdin)["OCIv1"]["config"].get("Labels", {}), sys.argv[1]
print("image: labels", labels)
for key in ("title", "description", "version", "revision", "licenses"):
    assert labels.get("org.opencontainers.image." + key), "no org.opencontainers.image.%s label" % key
assert labels["org.opencontainers.image.version"] == version, labels
' "$version"

container=$(buildah from procevents_exporter)
port=19669
log=$(mktemp)
cleanup() {
  # Never `kill 0`: that would signal this whole process group, the script included.
  if ((${run_pid:-0} > 0)); then
    kill "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
  buildah rm "$container" >/dev/null 2>&1 || true
  rm -f "$log"
}
trap cleanup EXIT
buildah run --isolation chroot --network host --pid host --cap-add CAP_NET_ADMIN "$container" -- \
  /usr/local/bin/procevents_exporter --config.file=/etc/procevents_exporter/procevents.yml \
  --web.listen-address=127.0.0.1:$port >"$log" 2>&1 &
run_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$log"; echo "image: exporter did not become healthy" >&2; exit 1; }

name=peimg$$
work=$(mktemp -d)
cp /bin/true "$work/$name"
for _ in 1 2 3 4 5; do "$work/$name"; sleep 0.05; done
rm -rf "$work"
sleep 1
count=$(curl -sf "http://127.0.0.1:$port/metrics" | awk -v g="groupname=\"$name\"" '$1 ~ /^procevents_execs_total/ && index($1, g) {print $2}')
echo "image: procevents_execs_total{groupname=\"$name\"} = ${count:-none}"
curl -sf "http://127.0.0.1:$port/metrics" | grep -E '^procevents_(connector_up|build_info)'
buildah run --isolation chroot --network host "$container" -- /usr/local/bin/procevents_exporter \
  --healthcheck=http://127.0.0.1:$port/healthz || { echo "image: its own --healthcheck fails" >&2; exit 1; }
[[ ${count:-0} == 5 ]] || { cat "$log"; exit 1; }
echo "image verified: built, healthy, and counting a workload's execs from inside the container"
