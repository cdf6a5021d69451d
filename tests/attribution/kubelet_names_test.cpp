// The kubelet's log directory names -> Kubernetes names: parsing (hostile names refused) and the
// inotify-kept index, on a scratch directory.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "attribution/cgroup_cache.h"
#include "attribution/kubelet_names.h"

using namespace procevents::attribution;
namespace fs = std::filesystem;

namespace {

const std::string kUid = "0d5ad1d6-5e2e-4b7c-9b9e-3c1f5a7e8d90";
const std::string kStaticUid = "7e1b9c5f0a2d4e6f8a1b3c5d7e9f0a2b";
const std::string kId = "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899";

/// A mkdtemp() directory with the kubelet's two directories in it, removed on destruction.
struct KubeletScratch {
  fs::path root;
  KubeletScratch() {
    std::string pattern = (fs::temp_directory_path() / "kubelet-XXXXXX").string();
    root = ::mkdtemp(pattern.data());
    fs::create_directories(root / "pods");
    fs::create_directories(root / "containers");
  }
  ~KubeletScratch() { fs::remove_all(root); }
  KubeletDirectories directories() const { return {(root / "pods").string(), (root / "containers").string()}; }
  void add_pod(const std::string& ns, const std::string& pod, const std::string& uid, const std::string& container) {
    fs::create_directories(root / "pods" / (ns + "_" + pod + "_" + uid) / container);
  }
  void add_container(const std::string& ns, const std::string& pod, const std::string& container, const std::string& id) {
    std::ofstream(root / "containers" / (pod + "_" + ns + "_" + container + "-" + id + ".log"));
  }
};

CgroupIdentity pod_container(const std::string& uid, const std::string& id) {
  CgroupIdentity identity;
  identity.pod_uid = uid;
  identity.container_id = id;
  return identity;
}

}  // namespace

TEST_CASE("pod log directory names split into namespace, pod and UID", "[attribution]") {
  struct Row {
    std::string name;
    bool valid;
    std::string pod_namespace, pod, uid;
  };
  const Row rows[] = {
      {"kube-system_coredns-5d78c9869d-abcde_" + kUid, true, "kube-system", "coredns-5d78c9869d-abcde", kUid},
      {"default_web-0_" + kUid, true, "default", "web-0", kUid},
      {"kube-system_etcd-node1.example.com_" + kStaticUid, true, "kube-system", "etcd-node1.example.com", kStaticUid},
      {"a_b_" + kUid, true, "a", "b", kUid},
      {"default_web_0_" + kUid, false},       // '_' is in no Kubernetes name: four parts
      {"default_web-0", false},               // no UID
      {"_web-0_" + kUid, false},              // empty namespace
      {"default__" + kUid, false},            // empty pod
      {"Default_web-0_" + kUid, false},       // upper case
      {"de.fault_web-0_" + kUid, false},      // a namespace is a label: no '.'
      {"default_-web_" + kUid, false},        // must start alphanumeric
      {"default_web-_" + kUid, false},        // and end so
      {"default_web-0_not-a-uid", false},
      {"default_web-0_" + kUid + "0", false},  // 37 characters
      {"default_web-0_" + kUid.substr(0, 35) + "G", false},
      {"default_web\n0_" + kUid, false},
      {std::string(64, 'a') + "_web-0_" + kUid, false},  // a label has at most 63
      {std::string(63, 'a') + "_web-0_" + kUid, true, std::string(63, 'a'), "web-0", kUid},
      {"default_" + std::string(254, 'a') + "_" + kUid, false},
      {"", false},
      {"__", false},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    const auto parsed = parse_pod_log_directory(row.name);
    REQUIRE(parsed.has_value() == row.valid);
    if (!parsed) continue;
    CHECK(parsed->pod_namespace == row.pod_namespace);
    CHECK(parsed->pod == row.pod);
    CHECK(parsed->uid == row.uid);
  }
}

TEST_CASE("container log file names split into pod, namespace, container and ID", "[attribution]") {
  struct Row {
    std::string name;
    bool valid;
    std::string pod, pod_namespace, container, id;
  };
  const Row rows[] = {
      {"coredns-5d78c9869d-abcde_kube-system_coredns-" + kId + ".log", true, "coredns-5d78c9869d-abcde", "kube-system",
       "coredns", kId},
      {"web-0_default_istio-proxy-" + kId + ".log", true, "web-0", "default", "istio-proxy", kId},  // '-' in a container
      {"etcd-node1.example.com_kube-system_etcd-" + kId + ".log", true, "etcd-node1.example.com", "kube-system", "etcd", kId},
      {"web-0_default_app-" + kId, false},                            // no .log
      {"web-0_default_app-" + kId + ".log.1", false},
      {"web-0_default_app" + kId + ".log", false},                    // no '-' before the ID
      {"web-0_default_app-" + kId.substr(1) + ".log", false},         // 63 hex
      {"web-0_default_app-" + kId + "0.log", false},                  // 65 hex
      {"web-0_default_app-" + std::string(63, 'a') + "G.log", false},  // not hex
      {"web-0_default_app-" + std::string(64, 'A') + ".log", false},   // upper case hex: runtimes write lower
      {"web-0_default_-" + kId + ".log", false},                      // empty container
      {"web-0_default_my_app-" + kId + ".log", false},                // '_' in a container name
      {"web_0_default_app-" + kId + ".log", false},
      {"web-0_de.fault_app-" + kId + ".log", false},
      {"web-0_default_a.pp-" + kId + ".log", false},                  // a container is a label
      {"web-0_default_app--" + kId + ".log", false},                  // container ends with '-'
      {".log", false},
      {"", false},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    const auto parsed = parse_container_log_file(row.name);
    REQUIRE(parsed.has_value() == row.valid);
    if (!parsed) continue;
    CHECK(parsed->pod == row.pod);
    CHECK(parsed->pod_namespace == row.pod_namespace);
    CHECK(parsed->container == row.container);
    CHECK(parsed->id == row.id);
  }
}

TEST_CASE("kubelet names come from the directories present at start", "[attribution]") {
  KubeletScratch scratch;
  scratch.add_pod("shop", "web-0", kUid, "app");
  scratch.add_container("shop", "web-0", "app", kId);
  std::ofstream(scratch.root / "containers" / "garbage_file.log");  // ignored
  KubeletNames names(scratch.directories());
  CgroupIdentity identity = pod_container(kUid, kId);
  CHECK(names.name(identity));
  CHECK(identity.pod_namespace == "shop");
  CHECK(identity.pod_name == "web-0");
  CHECK(identity.container_name == "app");
  CHECK(names.misses() == 0);
  CHECK(names.pods() == 1);
  CHECK(names.containers() == 1);
}

TEST_CASE("a pod started later is named at the first lookup after its directory appears", "[attribution]") {
  KubeletScratch scratch;
  KubeletNames names(scratch.directories());
  CgroupIdentity early = pod_container(kUid, kId);
  CHECK_FALSE(names.name(early));
  CHECK(early.pod_name.empty());
  CHECK(names.misses() == 1);

  scratch.add_pod("shop", "web-0", kUid, "app");
  scratch.add_container("shop", "web-0", "app", kId);
  CgroupIdentity later = pod_container(kUid, kId);
  CHECK(names.name(later));
  CHECK(later.pod_namespace == "shop");
  CHECK(later.container_name == "app");

  // A sandbox (no log) gets the pod's names but no container; a container outside any pod asks nothing.
  CgroupIdentity sandbox = pod_container(kUid, std::string(64, 'e'));
  CHECK_FALSE(names.name(sandbox));
  CHECK(sandbox.pod_name == "web-0");
  CHECK(sandbox.container_name.empty());
  CgroupIdentity docker = pod_container("", kId);
  const std::uint64_t misses = names.misses();
  CHECK(names.name(docker));
  CHECK(docker.container_name.empty());
  CHECK(names.misses() == misses);

  // Removed entries leave the index (what was named stays named).
  fs::remove_all(scratch.root / "pods");
  fs::remove_all(scratch.root / "containers");
  CgroupIdentity other = pod_container(kStaticUid, kId);
  CHECK_FALSE(names.name(other));
  CHECK(names.pods() == 0);
  CHECK(names.containers() == 0);
}

TEST_CASE("missing kubelet directories name nothing and fail nothing", "[attribution]") {
  KubeletNames names({"/nonexistent/pods", "/nonexistent/containers"});
  CgroupIdentity identity = pod_container(kUid, kId);
  CHECK_FALSE(names.name(identity));
  CHECK(identity.pod_name.empty());
}

TEST_CASE("the cgroup cache names a cached cgroup once its pod's directory appears", "[attribution]") {
  KubeletScratch scratch;
  CgroupCache cache(8, std::make_unique<KubeletNames>(scratch.directories()));
  std::string uid_systemd = kUid;
  std::replace(uid_systemd.begin(), uid_systemd.end(), '-', '_');
  const std::string path = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_systemd +
                           ".slice/cri-containerd-" + kId + ".scope";
  CHECK(cache.classify(path).pod_name.empty());
  scratch.add_pod("shop", "web-0", kUid, "app");
  scratch.add_container("shop", "web-0", "app", kId);
  const CgroupIdentity& named = cache.classify(path);
  CHECK(named.pod_namespace == "shop");
  CHECK(named.pod_name == "web-0");
  CHECK(named.container_name == "app");
  CHECK(cache.misses() == 1);
  const std::uint64_t lookups = cache.kubelet()->misses();
  (void)cache.classify(path);  // named: not looked up again
  CHECK(cache.kubelet()->misses() == lookups);
}
