// Table tests for the scope (`scope:`): which cgroups it holds, the pod of /proc/<pid>/cgroup text
// for every kubepods layout, where its directory is mounted, and the pids of a cgroup tree.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "attribution/cgroup_scope.h"

using namespace procevents::attribution;

namespace {
const std::string kId = "4f0c5e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d";
const std::string kUid = "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718";
const std::string kUidSystemd = "1f2e3d4c_5b6a_7980_a1b2_c3d4e5f60718";
}  // namespace

TEST_CASE("a scope holds its path and what lies below it", "[attribution]") {
  struct Row {
    const char* scope;
    const char* cgroup;
    bool inside;
  };
  for (const Row& row : std::vector<Row>{
           {"/system.slice/nginx.service", "/system.slice/nginx.service", true},
           {"/system.slice/nginx.service/", "/system.slice/nginx.service/worker", true},
           {"/system.slice/nginx.service", "/system.slice/nginx.service2", false},
           {"/system.slice/nginx.service", "/system.slice", false},
           {"/system.slice/nginx.service", "/", false},
           {"/system.slice/nginx.service", "", false},
           {"/", "/anything/at/all", true},
           {"/", "", true},
       }) {
    CAPTURE(row.scope, row.cgroup);
    CHECK(CgroupScope(row.scope).contains(row.cgroup) == row.inside);
  }
  CHECK(CgroupScope().whole_host());
  CHECK(CgroupScope("/").whole_host());
  CHECK(CgroupScope("/a/").path() == "/a");
}

TEST_CASE("the pod cgroup comes from every kubepods layout", "[attribution]") {
  const std::string systemd_pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd + ".slice";
  struct Row {
    std::string text, pod;
  };
  for (const Row& row : std::vector<Row>{
           // cgroup v2, systemd driver (containerd, CRI-O)
           {"0::" + systemd_pod + "/cri-containerd-" + kId + ".scope\n", systemd_pod},
           {"0::" + systemd_pod + "/crio-" + kId + ".scope\n", systemd_pod},
           {"0::/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/cri-containerd-" + kId + ".scope\n",
            "/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice"},
           // cgroup v2, cgroupfs driver
           {"0::/kubepods/besteffort/pod" + kUid + "/" + kId + "\n", "/kubepods/besteffort/pod" + kUid},
           // cgroup v1: name=systemd first, the controllers agree
           {"12:cpu,cpuacct:/kubepods/burstable/pod" + kUid + "/" + kId + "\n1:name=systemd:/kubepods/burstable/pod" +
                kUid + "/" + kId + "\n0::/\n",
            "/kubepods/burstable/pod" + kUid},
           {"5:memory:" + systemd_pod + "/docker-" + kId + ".scope\n1:name=systemd:" + systemd_pod + "/docker-" + kId +
                ".scope\n",
            systemd_pod},
           // kind: the node's pods below kubelet.slice
           {"0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" + kUidSystemd + ".slice/cri-containerd-" +
                kId + ".scope\n",
            "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" + kUidSystemd + ".slice"},
       }) {
    CAPTURE(row.text);
    std::string why;
    const std::optional<std::string> pod = pod_cgroup_of(row.text, why);
    REQUIRE(pod);
    CHECK(*pod == row.pod);
  }
}

TEST_CASE("a process in no pod has no pod cgroup, and the error says why", "[attribution]") {
  for (const std::string text : {"0::/system.slice/ssh.service\n", "0::/\n", "", "garbage"}) {
    CAPTURE(text);
    std::string why;
    CHECK_FALSE(pod_cgroup_of(text, why));
    CHECK_FALSE(why.empty());
  }
  std::string why;
  pod_cgroup_of("0::/\n", why);
  CHECK(why.find("cgroup namespace") != std::string::npos);
}

TEST_CASE("the scope's directory is found in the mounted cgroup file systems", "[attribution]") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("scope_dir_test_" + std::to_string(::getpid()));
  fs::create_directories(root / "v2/pod/c1");
  fs::create_directories(root / "systemd/pod");
  const std::string v2 = (root / "v2").string(), v1 = (root / "systemd").string();
  const std::string mountinfo =
      "30 1 0:26 / " + v1 + " rw,nosuid - cgroup cgroup rw,xattr,name=systemd\n" +
      "31 1 0:27 / /proc rw - proc proc rw\n" +
      "32 1 0:28 /sub " + v2 + " rw shared:9 - cgroup2 cgroup2 rw\n";  // a subtree: not used
  CHECK(scope_directory(CgroupScope("/pod"), mountinfo) == v1 + "/pod");
  const std::string with_v2 = mountinfo + "33 1 0:29 / " + v2 + " rw shared:9 - cgroup2 cgroup2 rw\n";
  CHECK(scope_directory(CgroupScope("/pod"), with_v2) == v2 + "/pod");
  CHECK(scope_directory(CgroupScope("/missing"), with_v2).empty());

  std::ofstream(root / "v2/pod/cgroup.procs") << "10\n11\n";
  std::ofstream(root / "v2/pod/c1/cgroup.procs") << "12\n";
  std::vector<std::int32_t> pids;
  CHECK(list_cgroup_tree_pids(v2 + "/pod", pids));
  std::sort(pids.begin(), pids.end());
  CHECK(pids == std::vector<std::int32_t>{10, 11, 12});
  CHECK_FALSE(list_cgroup_tree_pids(v2 + "/missing", pids));
  fs::remove_all(root);
}
