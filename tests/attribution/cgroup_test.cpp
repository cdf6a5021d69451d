// Table tests for the cgroup classifier on real-world path shapes.
#include <catch2/catch.hpp>

#include <string>

#include "attribution/cgroup.h"

using namespace procevents::attribution;

namespace {
const std::string kId = "4f0c5e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d";
const std::string kId2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
}  // namespace

TEST_CASE("cgroup path shapes classify to unit, container and pod", "[attribution]") {
  struct Row {
    std::string path;
    CgroupKind kind;
    std::string unit, container, pod, qos;
  };
  const std::string uid = "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718";
  const std::string uid_ = "1f2e3d4c_5b6a_7980_a1b2_c3d4e5f60718";
  const Row rows[] = {
      {"/", CgroupKind::kHost, "", "", "", ""},
      {"/init.scope", CgroupKind::kHost, "init.scope", "", "", ""},
      {"/system.slice/nginx.service", CgroupKind::kSystemdService, "nginx.service", "", "", ""},
      {"/system.slice/system-getty.slice/getty@tty1.service", CgroupKind::kSystemdService, "getty@tty1.service", "", "", ""},
      {"/user.slice/user-1000.slice/session-3.scope", CgroupKind::kUserSession, "session-3.scope", "", "", ""},
      {"/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-1234.scope", CgroupKind::kSystemdScope,
       "app-gnome-firefox-1234.scope", "", "", ""},
      // Docker: systemd and cgroupfs drivers, and docker-in-docker (innermost wins).
      {"/system.slice/docker-" + kId + ".scope", CgroupKind::kDocker, "docker-" + kId + ".scope", kId, "", ""},
      {"/docker/" + kId, CgroupKind::kDocker, "", kId, "", ""},
      {"/docker/" + kId + "/docker/" + kId2, CgroupKind::kDocker, "", kId2, "", ""},
      // containerd under Kubernetes: systemd driver (burstable, guaranteed) and cgroupfs driver.
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid_ + ".slice/cri-containerd-" + kId + ".scope",
       CgroupKind::kContainerd, "cri-containerd-" + kId + ".scope", kId, uid, "burstable"},
      {"/kubepods.slice/kubepods-pod" + uid_ + ".slice/cri-containerd-" + kId + ".scope", CgroupKind::kContainerd,
       "cri-containerd-" + kId + ".scope", kId, uid, "guaranteed"},
      {"/kubepods/besteffort/pod" + uid + "/" + kId, CgroupKind::kContainerd, "", kId, uid, "besteffort"},
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_ + ".slice", CgroupKind::kKubepods, "",
       "", uid, "besteffort"},
      // CRI-O, including its conmon.
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_ + ".slice/crio-" + kId + ".scope",
       CgroupKind::kCrio, "crio-" + kId + ".scope", kId, uid, "besteffort"},
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_ + ".slice/crio-conmon-" + kId + ".scope",
       CgroupKind::kCrio, "crio-conmon-" + kId + ".scope", kId, uid, "besteffort"},
      // kind nodes nest kubelet's tree.
      {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + uid_ +
           ".slice/cri-containerd-" + kId + ".scope",
       CgroupKind::kContainerd, "cri-containerd-" + kId + ".scope", kId, uid, "besteffort"},
      // Podman, root and rootless, and conmon.
      {"/machine.slice/libpod-" + kId + ".scope", CgroupKind::kPodman, "libpod-" + kId + ".scope", kId, "", ""},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope", CgroupKind::kPodman,
       "libpod-" + kId + ".scope", kId, "", ""},
      {"/machine.slice/libpod-conmon-" + kId + ".scope", CgroupKind::kPodman, "libpod-conmon-" + kId + ".scope", kId, "", ""},
      // LXC.
      {"/lxc/web01", CgroupKind::kLxc, "", "web01", "", ""},
      {"/lxc.payload.web01/system.slice/nginx.service", CgroupKind::kLxc, "nginx.service", "web01", "", ""},
      {"/lxc.monitor.web01", CgroupKind::kLxc, "", "web01", "", ""},
  };
  for (const Row& row : rows) {
    CAPTURE(row.path);
    const CgroupIdentity id = classify_cgroup_path(row.path);
    CHECK(cgroup_kind_name(id.kind) == cgroup_kind_name(row.kind));
    CHECK(id.unit == row.unit);
    CHECK(id.container_id == row.container);
    if (!row.pod.empty()) CHECK(id.pod_uid == row.pod);
    if (!row.qos.empty()) CHECK(id.qos_class == row.qos);
  }
}

TEST_CASE("the path is picked from /proc/<pid>/cgroup text: v2, else name=systemd, else first", "[attribution]") {
  CHECK(select_cgroup_path("0::/system.slice/nginx.service\n") == "/system.slice/nginx.service");
  // Hybrid (this machine's shape): v1 controllers plus an empty unified line.
  CHECK(select_cgroup_path("9:name=systemd:/system.slice/cron.service\n4:memory:/x\n0::/\n") == "/system.slice/cron.service");
  CHECK(select_cgroup_path("12:memory:/docker/" + kId + "\n11:cpu:/docker/" + kId + "\n") == "/docker/" + kId);
  CHECK(select_cgroup_path("garbage without colons\n\n::\n0::/a:b\n") == "/a:b");
  CHECK(select_cgroup_path("") == "");
  CHECK(classify_proc_cgroup_file("1:name=systemd:/system.slice/docker-" + kId + ".scope\n0::/\n").container_id == kId);
}

TEST_CASE("the cache and the label limiter stay bounded under a flood of distinct cgroups", "[attribution]") {
  CgroupCache cache(100);
  LabelLimiter units(50);
  std::size_t other = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string path = "/system.slice/svc" + std::to_string(i) + ".service";
    const CgroupIdentity& id = cache.classify(path);
    CHECK(id.unit == "svc" + std::to_string(i) + ".service");
    other += units.admit(id.unit) == "other";
  }
  CHECK(cache.size() <= 100);
  CHECK(cache.misses() == 10000);
  CHECK(units.size() == 50);
  CHECK(units.overflows() == 9950);
  CHECK(other == 9950);
  CHECK(units.admit("svc3.service") == "svc3.service");  // admitted values keep passing
  (void)cache.classify("/system.slice/svc9999.service");
  CHECK(cache.hits() == 1);
}

TEST_CASE("this process's own cgroup file classifies without trouble", "[attribution]") {
  std::string text;
  if (FILE* f = std::fopen("/proc/self/cgroup", "r")) {
    char buffer[4096];
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, f);
    std::fclose(f);
    text.assign(buffer, n);
  }
  CHECK_NOTHROW(classify_proc_cgroup_file(text));
}
