// Table tests for the cgroup classifier on real-world path shapes (cgroup v1 and v2, systemd and
// cgroupfs drivers), path selection from /proc/<pid>/cgroup text, and odd input.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "attribution/cgroup_identity.h"

using namespace procevents::attribution;

namespace {

const std::string kId = "4f0c5e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d";
const std::string kId2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kUid = "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718";
const std::string kUidSystemd = "1f2e3d4c_5b6a_7980_a1b2_c3d4e5f60718";  // as in systemd slice names
const std::string kStaticPodUid = "8d3c1b0c53d44e5bd4c6d5c6d7b8f6a9";      // static pods: a 32-hex hash

struct Row {
  std::string path;
  std::string unit, container, pod;
};

void check_rows(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    CAPTURE(row.path);
    const CgroupIdentity id = classify_cgroup_path(row.path);
    CHECK(id.path == row.path);
    CHECK(id.unit == row.unit);
    CHECK(id.container_id == row.container);
    CHECK(id.pod_uid == row.pod);
  }
}

}  // namespace

TEST_CASE("systemd paths give the innermost unit and no container", "[attribution]") {
  check_rows({
      {"/", "", "", ""},
      {"", "", "", ""},
      {"/init.scope", "init.scope", "", ""},  // PID 1 itself
      {"/system.slice", "", "", ""},
      {"/system.slice/nginx.service", "nginx.service", "", ""},
      {"/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service", "", ""},
      {"/system.slice/docker.service", "docker.service", "", ""},  // the daemon, not a container
      {"/system.slice/system-systemd\\x2dfsck.slice/systemd-fsck@dev-disk-by\\x2duuid-1.service", "systemd-fsck@dev-disk-by\\x2duuid-1.service", "", ""},
      {"/user.slice", "", "", ""},
      {"/user.slice/user-1000.slice", "", "", ""},
      {"/user.slice/user-1000.slice/session-3.scope", "session-3.scope", "", ""},
      {"/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-1234.scope", "app-gnome-firefox-1234.scope", "", ""},
      {"/user.slice/user-1000.slice/user@1000.service/init.scope", "init.scope", "", ""},  // the user's systemd, not PID 1
      {"/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service", "dbus.service", "", ""},
      {"/machine.slice/machine-qemu\\x2d1\\x2dvm.scope", "machine-qemu\\x2d1\\x2dvm.scope", "", ""},
      // Looks like a container unit but the id is not hex: an ordinary scope.
      {"/system.slice/docker-xyz.scope", "docker-xyz.scope", "", ""},
  });
}

TEST_CASE("Docker paths give the container id, innermost first", "[attribution]") {
  check_rows({
      {"/system.slice/docker-" + kId + ".scope", "docker-" + kId + ".scope", kId, ""},
      {"/docker/" + kId, "", kId, ""},
      {"/docker/" + kId.substr(0, 12), "", kId.substr(0, 12), ""},
      {"/docker/" + kId + "/docker/" + kId2, "", kId2, ""},  // docker-in-docker
      {"/system.slice/docker-" + kId + ".scope/system.slice/nginx.service", "nginx.service", kId, ""},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" + kId + ".scope", "docker-" + kId + ".scope", kId, ""},  // rootless
      {"/docker/not-an-id", "", "", ""},
  });
}

TEST_CASE("Kubernetes paths give container and pod UID", "[attribution]") {
  const std::string burstable_pod =
      "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd + ".slice";
  const std::string besteffort_pod =
      "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kUidSystemd + ".slice";
  check_rows({
      // containerd, systemd driver: burstable and best-effort under a QoS slice, guaranteed without one.
      {burstable_pod + "/cri-containerd-" + kId + ".scope", "cri-containerd-" + kId + ".scope", kId, kUid},
      {"/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/cri-containerd-" + kId + ".scope", "cri-containerd-" + kId + ".scope", kId, kUid},
      // containerd (or any runtime), cgroupfs driver: the id alone.
      {"/kubepods/besteffort/pod" + kUid + "/" + kId, "", kId, kUid},
      {"/kubepods/burstable/pod" + kUid + "/" + kId, "", kId, kUid},
      {"/kubepods/pod" + kUid + "/" + kId, "", kId, kUid},
      // Pod level without a container.
      {besteffort_pod, "", "", kUid},
      {"/kubepods/burstable/pod" + kUid, "", "", kUid},
      // CRI-O, systemd and cgroupfs drivers; conmon belongs to the same pod.
      {besteffort_pod + "/crio-" + kId + ".scope", "crio-" + kId + ".scope", kId, kUid},
      {besteffort_pod + "/crio-conmon-" + kId + ".scope", "crio-conmon-" + kId + ".scope", kId, kUid},
      {"/kubepods/besteffort/pod" + kUid + "/crio-" + kId, "", kId, kUid},
      {"/kubepods/besteffort/pod" + kUid + "/crio-conmon-" + kId, "", kId, kUid},
      // dockershim, systemd driver.
      {burstable_pod + "/docker-" + kId + ".scope", "docker-" + kId + ".scope", kId, kUid},
      // Static pods have a hash for UID.
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kStaticPodUid + ".slice/cri-containerd-" + kId + ".scope", "cri-containerd-" + kId + ".scope", kId, kStaticPodUid},
      // kind: the node's own kubelet tree, and the same seen from the host through the node's container.
      {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + kUidSystemd + ".slice/cri-containerd-" + kId + ".scope", "cri-containerd-" + kId + ".scope", kId, kUid},
      {"/system.slice/docker-" + kId2 + ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/" "kubelet-kubepods-burstable-pod" + kUidSystemd + ".slice/cri-containerd-" + kId + ".scope", "cri-containerd-" + kId + ".scope", kId, kUid},
      {"/system.slice/docker-" + kId2 + ".scope/system.slice/kubelet.service", "kubelet.service", kId2, ""},  // the kind node's kubelet
      // Read from inside another cgroup namespace, paths climb with "..".
      {"/../../kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/cri-containerd-" + kId + ".scope", "cri-containerd-" + kId + ".scope", kId, kUid},
      // The QoS slices alone hold no pod.
      {"/kubepods.slice/kubepods-burstable.slice", "", "", ""},
  });
}

TEST_CASE("Podman, nerdctl and LXC paths give the container id or name", "[attribution]") {
  check_rows({
      {"/machine.slice/libpod-" + kId + ".scope", "libpod-" + kId + ".scope", kId, ""},
      {"/machine.slice/libpod-conmon-" + kId + ".scope", "libpod-conmon-" + kId + ".scope", kId, ""},
      {"/machine.slice/libpod-" + kId + ".scope/container", "libpod-" + kId + ".scope", kId, ""},
      {"/machine.slice/machine-libpod_pod_" + kId2 + ".slice/libpod-" + kId + ".scope", "libpod-" + kId + ".scope", kId, ""},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope", "libpod-" + kId + ".scope", kId, ""},  // rootless
      {"/libpod_parent/libpod-" + kId, "", kId, ""},  // cgroupfs manager
      {"/system.slice/nerdctl-" + kId + ".scope", "nerdctl-" + kId + ".scope", kId, ""},
      {"/lxc/web01", "", "web01", ""},
      {"/lxc/web01/ns/system.slice/cron.service", "cron.service", "web01", ""},
      {"/lxc.payload.web01/system.slice/nginx.service", "nginx.service", "web01", ""},
      {"/lxc.payload.my.box/init.scope", "init.scope", "my.box", ""},
      {"/lxc.monitor.web01", "", "web01", ""},
      {"/lxc.payload.", "", "", ""},
  });
}

TEST_CASE("the path is picked from /proc/<pid>/cgroup text", "[attribution]") {
  struct Case {
    std::string text, expected;
  };
  const std::string docker_scope = "/system.slice/docker-" + kId + ".scope";
  const Case cases[] = {
      // cgroup v2 only.
      {"0::/system.slice/nginx.service\n", "/system.slice/nginx.service"},
      {"0::/system.slice/nginx.service", "/system.slice/nginx.service"},  // no final newline
      // cgroup v1 only, cgroupfs driver (Docker): every controller has the path.
      {"12:memory:/docker/" + kId + "\n11:cpu,cpuacct:/docker/" + kId + "\n1:name=systemd:/docker/" + kId + "\n",
       "/docker/" + kId},
      // v1 with systemd: name=systemd wins over controllers that only know a slice.
      {"4:memory:/system.slice\n1:name=systemd:" + docker_scope + "\n", docker_scope},
      // Hybrid: v1 plus an unused unified line "0::/".
      {"9:name=systemd:/system.slice/cron.service\n4:memory:/x\n0::/\n", "/system.slice/cron.service"},
      // Hybrid with the unified hierarchy in use: v2 wins.
      {"9:name=systemd:/system.slice/cron.service\n4:memory:/system.slice\n0::/system.slice/cron.service\n",
       "/system.slice/cron.service"},
      {"1:name=systemd:/a.service\n0::/b.service\n", "/b.service"},
      // This VM's shape: only the memory controller places the process.
      {"9:name=systemd:/\n8:pids:/\n4:memory:/process_api/a286f6b00358c8221c973637a5561124\n3:cpuset:/\n0::/\n",
       "/process_api/a286f6b00358c8221c973637a5561124"},
      // Everything at the root.
      {"9:name=systemd:/\n4:memory:/\n0::/\n", "/"},
      {"0::/\n", "/"},
      // A zombie whose cgroup was removed.
      {"0::/system.slice/gone.service (deleted)\n", "/system.slice/gone.service"},
      // ':' inside the path; duplicates (first wins); junk lines are skipped.
      {"0::/a:b\n", "/a:b"},
      {"0::/first\n0::/second\n", "/first"},
      {"garbage without colons\n\n::\nx:memory:/not-a-hierarchy\n4:memory:relative\n0::/real\n", "/real"},
      {"4:memory:/m\r\n", "/m\r"},  // bytes are kept as they are
      // Nothing usable.
      {"", ""},
      {"\n\n\n", ""},
      {"garbage\n", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK(select_cgroup_path(c.text) == c.expected);
  }
  const CgroupIdentity id = classify_cgroup_path(select_cgroup_path("1:name=systemd:" + docker_scope + "\n0::/\n"));
  CHECK(id.container_id == kId);
  CHECK(id.path == docker_scope);
  // cgroup v1 Kubernetes nodes: every controller line carries the pod and container (cgroupfs driver here).
  const std::string v1_pod = "/kubepods/burstable/pod" + kUid + "/" + kId;
  const CgroupIdentity v1 = classify_cgroup_path(
      select_cgroup_path("12:pids:" + v1_pod + "\n4:cpu,cpuacct:" + v1_pod + "\n1:name=systemd:" + v1_pod + "\n"));
  CHECK(v1.pod_uid == kUid);
  CHECK(v1.container_id == kId);
}

TEST_CASE("random and hostile paths never crash and keep the identity consistent", "[attribution]") {
  const std::vector<std::string> tokens = {
      "", "/", "//", "..", ".", "system.slice", "nginx.service", ".scope", ".service", "docker", "docker-" + kId + ".scope",
      kId, kId.substr(0, 11), "kubepods", "kubepods.slice", "kubepods-burstable.slice", "kubepods-pod" + kUidSystemd + ".slice",
      "kubepods-besteffort-pod.slice", "pod", "pod" + kUid, "podman", "burstable", "besteffort", "cri-containerd-" + kId,
      "crio-conmon-", "crio-" + kId + ".scope", "libpod-", "libpod-" + kId, "lxc", "lxc.payload.", "lxc.payload.x",
      "lxc.monitor.", "user-1000.slice", "session-1.scope", "init.scope", "\xff\xfe", std::string("\0", 1), ":", "\n",
      " (deleted)", std::string(300, 'a')};
  std::mt19937 random(12345);
  for (int i = 0; i < 100000; ++i) {
    std::string path;
    const int parts = static_cast<int>(random() % 8);
    for (int p = 0; p < parts; ++p) path += (random() % 4 ? "/" : "") + tokens[random() % tokens.size()];
    if (i % 10 == 0) {  // raw bytes
      path.clear();
      for (int b = static_cast<int>(random() % 64); b > 0; --b) path.push_back(static_cast<char>(random()));
    }
    CAPTURE(path);
    const CgroupIdentity id = classify_cgroup_path(path);
    REQUIRE(id.path == path);
    if (!id.unit.empty()) REQUIRE((id.unit.ends_with(".service") || id.unit.ends_with(".scope")));
    REQUIRE(id.pod_uid.find('_') == std::string::npos);
    (void)select_cgroup_path(path);
    (void)classify_cgroup_path(select_cgroup_path(path));
  }

  // A very deep path: linear work, no recursion.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "/docker/" + kId.substr(0, 12);
  CHECK(classify_cgroup_path(deep).container_id == kId.substr(0, 12));
}
