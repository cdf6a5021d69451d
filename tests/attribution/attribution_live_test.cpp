// Attribution on the running kernel: every live process's /proc/<pid>/cgroup classifies, and a
// child moved into cgroups shaped like a systemd service, a kubepods container (v2) and a Docker
// container (v1 name=systemd, on hybrid hosts) is recognised from what /proc says. Creating
// cgroups needs root; without it those checks say why and skip (a failure under CI).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "attribution/cgroup.h"
#include "procfs/procfs.h"

using namespace procevents;

namespace {

bool is_dir(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

/// Creates cgroup directories level by level and removes the ones it created, innermost first.
class CgroupDirs {
 public:
  CgroupDirs() = default;
  CgroupDirs(const CgroupDirs&) = delete;
  CgroupDirs& operator=(const CgroupDirs&) = delete;
  ~CgroupDirs() {
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
      // The moved child may take a moment to leave after it is reaped.
      for (int attempt = 0; attempt < 100 && ::rmdir(it->c_str()) != 0 && errno == EBUSY; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
  /// Makes root/relative; false if any level could not be made.
  bool make(const std::string& root, const std::string& relative) {
    std::string path = root;
    std::size_t start = 0;
    while (start < relative.size()) {
      const auto slash = relative.find('/', start);
      const std::string part = relative.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      start = slash == std::string::npos ? relative.size() : slash + 1;
      if (part.empty()) continue;
      path += "/" + part;
      if (is_dir(path)) continue;
      if (::mkdir(path.c_str(), 0755) != 0) return false;
      created_.push_back(path);
    }
    return true;
  }

 private:
  std::vector<std::string> created_;
};

/// A child that waits on a pipe until it is killed.
class IdleChild {
 public:
  IdleChild() {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[1]);
      char byte;
      while (::read(fds[0], &byte, 1) != 0) {
      }
      ::_exit(0);
    }
    ::close(fds[0]);
    write_end_ = fds[1];
  }
  ~IdleChild() {
    if (write_end_ >= 0) ::close(write_end_);  // EOF: the child leaves
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }
  IdleChild(const IdleChild&) = delete;
  IdleChild& operator=(const IdleChild&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int write_end_ = -1;
};

bool move_into(const std::string& cgroup_dir, pid_t pid) {
  const int fd = ::open((cgroup_dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const std::string text = std::to_string(pid);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

/// `digits` right-aligned in `width` characters of `fill` (hex digits both, so still an id).
std::string padded(const std::string& digits, std::size_t width, char fill) {
  std::string out(width, fill);
  out.replace(width - digits.size(), digits.size(), digits);
  return out;
}

bool may_create_cgroups() {
  if (::geteuid() == 0) return true;
  if (std::getenv("CI")) FAIL("live attribution tests need root to create cgroups, and CI runs as root");
  WARN("skipped: creating cgroups needs root");
  return false;
}

}  // namespace

TEST_CASE("every live process's cgroup file classifies", "[attribution][live]") {
  procfs::ProcReader reader;
  procfs::ProcessInfo info;
  REQUIRE(reader.read_process(::getpid(), true, info) == procfs::ReadError::kNone);
  REQUIRE_FALSE(info.cgroup.empty());
  const attribution::CgroupIdentity self = attribution::classify_cgroup_path(attribution::select_cgroup_path(info.cgroup));
  CHECK_FALSE(self.path.empty());
  CHECK(self.path.front() == '/');

  attribution::CgroupCache cache(4096);
  std::vector<std::int32_t> pids;
  reader.for_each_pid([&](std::int32_t pid) { pids.push_back(pid); });
  std::size_t classified = 0;
  for (const std::int32_t pid : pids) {
    if (reader.read_process(pid, true, info) != procfs::ReadError::kNone) continue;  // exited meanwhile
    const attribution::CgroupIdentity& id = cache.classify(attribution::select_cgroup_path(info.cgroup));
    CHECK(id.path == attribution::select_cgroup_path(info.cgroup));
    ++classified;
  }
  CHECK(classified > 0);
  CHECK(cache.hits() + cache.misses() == classified);
}

TEST_CASE("a child moved into service and kubepods cgroups (v2) is classified from /proc", "[attribution][live]") {
  if (!may_create_cgroups()) return;
  const std::string root = is_dir("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
  if (!is_dir(root) || ::access((root + "/cgroup.procs").c_str(), W_OK) != 0) {
    WARN("skipped: no writable cgroup v2 hierarchy at " + root);
    return;
  }
  const std::string tag = std::to_string(::getpid());  // unique names; pids are at most 7 digits
  const std::string id = padded(tag, 64, 'e');
  const std::string uid = "0f1e2d3c-4b5a-6978-8a9b-" + padded(tag, 12, '0');
  std::string uid_systemd = uid;
  for (char& c : uid_systemd) c = c == '-' ? '_' : c;

  struct Case {
    std::string path;
    std::string unit, container, pod;
  };
  const Case cases[] = {
      {"/system.slice/procevents-test-" + tag + ".service", "procevents-test-" + tag + ".service", "", ""},
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_systemd + ".slice/cri-containerd-" + id +
           ".scope",
       "cri-containerd-" + id + ".scope", id, uid},
  };
  procfs::ProcReader reader;
  procfs::ProcessInfo info;
  for (const Case& c : cases) {
    CAPTURE(c.path);
    CgroupDirs dirs;
    REQUIRE(dirs.make(root, c.path));
    IdleChild child;
    REQUIRE(child.pid() > 0);
    REQUIRE(move_into(root + c.path, child.pid()));
    REQUIRE(reader.read_process(child.pid(), true, info) == procfs::ReadError::kNone);
    CHECK(info.cgroup.find("0::" + c.path + "\n") != std::string::npos);
    const attribution::CgroupIdentity id = attribution::classify_cgroup_path(attribution::select_cgroup_path(info.cgroup));
    CHECK(id.path == c.path);
    CHECK(id.unit == c.unit);
    CHECK(id.container_id == c.container);
    CHECK(id.pod_uid == c.pod);
  }
}

TEST_CASE("a child moved into a Docker-shaped v1 name=systemd cgroup is classified from /proc", "[attribution][live]") {
  if (!may_create_cgroups()) return;
  const std::string root = "/sys/fs/cgroup/systemd";
  if (!is_dir(root) || ::access((root + "/cgroup.procs").c_str(), W_OK) != 0) {
    WARN("skipped: no cgroup v1 name=systemd hierarchy (pure cgroup v2 host)");
    return;
  }
  const std::string id = padded(std::to_string(::getpid()), 64, 'd');
  const std::string path = "/docker/" + id;
  CgroupDirs dirs;
  REQUIRE(dirs.make(root, path));
  IdleChild child;
  REQUIRE(child.pid() > 0);
  REQUIRE(move_into(root + path, child.pid()));

  procfs::ProcReader reader;
  procfs::ProcessInfo info;
  REQUIRE(reader.read_process(child.pid(), true, info) == procfs::ReadError::kNone);
  CAPTURE(info.cgroup);
  CHECK(info.cgroup.find(":name=systemd:" + path + "\n") != std::string::npos);
  // The v2 line wins when it places the process somewhere; on this kind of host it usually is "/".
  const auto v2 = info.cgroup.find("\n0::");
  const std::string v2_path = v2 == std::string::npos ? "" : info.cgroup.substr(v2 + 4, info.cgroup.find('\n', v2 + 1) - v2 - 4);
  if (v2_path.empty() || v2_path == "/") {
    const attribution::CgroupIdentity identity = attribution::classify_cgroup_path(attribution::select_cgroup_path(info.cgroup));
    CHECK(identity.path == path);
    CHECK(identity.container_id == id);
  } else {
    CHECK(attribution::select_cgroup_path(info.cgroup) == v2_path);
  }
}
