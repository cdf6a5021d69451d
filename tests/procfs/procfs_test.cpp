// /proc readers on fixture trees: tests/procfs/fixtures/proc (committed) and temporary trees for
// what git cannot hold (huge files, unreadable modes).
#include <catch2/catch.hpp>

#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "procfs/procfs.h"
#include "temp_tree.h"

using namespace procevents::procfs;
using procevents::test::TempTree;

namespace {

const std::string kFixtureRoot = std::string(PROCFS_FIXTURES) + "/proc";

/// Owner of a fixture process directory: whoever checked the tree out. A non-root owner is taken
/// as the process's uid without reading status (the shortcut for non-root processes).
std::uint32_t fixture_owner(int pid) {
  struct stat dir {};
  return ::stat((kFixtureRoot + "/" + std::to_string(pid)).c_str(), &dir) == 0 ? dir.st_uid : 0;
}
/// The uid expected from a fixture whose status says `from_status`.
std::uint32_t expected_uid(int pid, std::uint32_t from_status) {
  const std::uint32_t owner = fixture_owner(pid);
  return owner != 0 ? owner : from_status;
}

std::vector<std::string> args(std::initializer_list<std::string_view> list) {
  std::vector<std::string> out;
  for (const std::string_view arg : list) out.emplace_back(arg);
  return out;
}

/// A /proc/<pid>/stat line with the given comm, ppid and start time (fields as a 6.x kernel writes them).
std::string stat_line(int pid, std::string_view comm, int ppid, std::uint64_t start) {
  return std::to_string(pid) + " (" + std::string(comm) + ") S " + std::to_string(ppid) +
         " 0 0 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 " + std::to_string(start) + " 1000 10 18446744073709551615\n";
}

/// Runs `check` in a child process as an unprivileged user (dropping root if we have it) and
/// returns its exit code; 0 means every check passed. Catch2 is not used in the child.
int run_unprivileged(const std::function<int()>& check) {
  const pid_t child = ::fork();
  if (child == 0) {
    if (::geteuid() == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
          ::setresuid(65534, 65534, 65534) != 0) {
        ::_exit(100);
      }
    }
    ::_exit(check());
  }
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace

// ---- pure parsers ------------------------------------------------------------------------------

TEST_CASE("parse_stat takes comm up to the last parenthesis", "[procfs]") {
  struct Row {
    std::string text, comm;
    std::int32_t ppid;
    std::uint64_t start;
  };
  const Row rows[] = {
      {stat_line(1, "systemd", 0, 13), "systemd", 0, 13},
      {stat_line(42, "a) b (c", 7, 98765), "a) b (c", 7, 98765},
      {stat_line(43, "two\nlines ", 42, 123456789012), "two\nlines ", 42, 123456789012},
      {stat_line(44, "", 1, 5), "", 1, 5},
      {stat_line(45, "((()))", 1, 5), "((()))", 1, 5},
      {stat_line(46, "x) S 999 0 0 0 -1 1 2 3 4 5 6 7 8 9 10 11 12 13 14", 3, 77), "x) S 999 0 0 0 -1 1 2 3 4 5 6 7 8 9 10 11 12 13 14",
       3, 77},
      {stat_line(47, "kworker/0:1-events", 2, 18446744073709551615ULL), "kworker/0:1-events", 2, 18446744073709551615ULL},
      {stat_line(48, "\xff\xfe\x01", 1, 9), "\xff\xfe\x01", 1, 9},
      // Exactly 22 fields, the last one ending the text with or without a newline.
      {"9 (short) S 4 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 321\n", "short", 4, 321},
      {"9 (short) S 4 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 321", "short", 4, 321},
  };
  for (const Row& row : rows) {
    CAPTURE(row.text);
    std::uint64_t start = 0;
    std::int32_t ppid = -1;
    std::string comm = "previous";
    REQUIRE(parse_stat(row.text, start, ppid, comm));
    CHECK(comm == row.comm);
    CHECK(ppid == row.ppid);
    CHECK(start == row.start);
  }
}

TEST_CASE("parse_stat rejects malformed and short stat text", "[procfs]") {
  const std::string rows[] = {
      "",
      "(",
      ")",
      ") (",
      "200 broken S 1 2 3\n",
      "201 (short) S 1 0 0 0 -1 4194560 50132\n",
      "9 (x) S 4 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n",              // 21 fields
      "9 (x) S notanumber 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n",   // bad ppid
      "9 (x) S 4 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5\n",           // negative start
      "9 (x) S 4 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999999\n",  // overflows
      "9 (x) S 4 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12abc\n",
      std::string("9 (x) S 4 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ") + '\0',
  };
  for (const std::string& text : rows) {
    CAPTURE(text);
    std::uint64_t start = 0;
    std::int32_t ppid = 0;
    std::string comm;
    CHECK_FALSE(parse_stat(text, start, ppid, comm));
  }
}

TEST_CASE("parse_stat_usage reads utime, stime, start time, vsize and rss", "[procfs]") {
  const auto usage = parse_stat_usage(
      "1 (sys temd) (x)) S 0 0 0 0 -1 4194560 50132 10856855 0 1824 1043 2576 53695 26618 20 0 1 0 13 44445696 3007 "
      "18446744073709551615 1 1 0 0 0\n");
  REQUIRE(usage);
  CHECK(usage->utime_ticks == 1043u);
  CHECK(usage->stime_ticks == 2576u);
  CHECK(usage->start_time_ticks == 13u);
  CHECK(usage->vsize_bytes == 44445696u);
  CHECK(usage->rss_pages == 3007);
  // Exactly 24 fields is enough; the rest is not needed.
  CHECK(parse_stat_usage("9 (x) S 4 0 0 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 5 6 -1"));
}

TEST_CASE("parse_stat_usage rejects malformed and short stat text", "[procfs]") {
  const std::string rows[] = {
      "",
      "9 x S 4 0 0 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 5 6 1\n",       // no comm
      "9 (x) S 4 0 0 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 5 6\n",       // 23 fields
      "9 (x) S 4 0 0 0 -1 0 0 0 0 0 -7 8 0 0 20 0 1 0 5 6 1\n",    // negative utime
      "9 (x) S 4 0 0 0 -1 0 0 0 0 0 7 8x 0 0 20 0 1 0 5 6 1\n",    // bad stime
      "9 (x) S 4 0 0 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 5 6 1.5\n",   // bad rss
  };
  for (const std::string& text : rows) {
    CAPTURE(text);
    CHECK_FALSE(parse_stat_usage(text));
  }
}

TEST_CASE("read_self_usage converts <root>/self/stat with btime, counts <root>/self/fd", "[procfs]") {
  const double ticks = static_cast<double>(ProcReader::clock_ticks_per_second());
  REQUIRE(ticks > 0);
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);

  // The fixture's self is pid 1 (no fd directory).
  const SelfUsage usage = read_self_usage(kFixtureRoot);
  REQUIRE(usage.stat);
  CHECK(usage.stat->cpu_seconds == static_cast<double>(1043 + 2576) / ticks);
  CHECK(usage.stat->virtual_memory_bytes == 44445696.0);
  CHECK(usage.stat->resident_memory_bytes == 3007.0 * static_cast<double>(::sysconf(_SC_PAGESIZE)));
  CHECK(usage.stat->start_time_seconds == 1795586915.0 + 13.0 / ticks);
  CHECK_FALSE(usage.open_fds);
  CHECK(usage.max_fds == limit.rlim_cur);

  // Without /proc/stat btime the start counts from 0; the fd directory's own descriptor is not counted.
  TempTree tree;
  REQUIRE_FALSE(tree.root().empty());
  REQUIRE(tree.write("self/stat", "9 (x) S 4 0 0 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 5 6 1\n"));
  for (const char* fd : {"self/fd/0", "self/fd/1", "self/fd/2", "self/fd/5"}) REQUIRE(tree.write(fd, ""));
  const SelfUsage bare = read_self_usage(tree.root());
  REQUIRE(bare.stat);
  CHECK(bare.stat->start_time_seconds == 5.0 / ticks);
  CHECK(bare.open_fds == 3u);

  // Nothing readable: only the limit is known.
  const SelfUsage none = read_self_usage("/nonexistent/proc");
  CHECK_FALSE(none.stat);
  CHECK_FALSE(none.open_fds);
  CHECK(none.max_fds);
}

TEST_CASE("parse_status_uids reads the real and effective uids", "[procfs]") {
  const auto uids = [](std::string_view text) -> std::pair<long long, long long> {
    const auto parsed = parse_status_uids(text);
    if (!parsed) return {-1, -1};
    return {parsed->real, parsed->effective};
  };
  using P = std::pair<long long, long long>;
  CHECK(uids("Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n") == P{1000, 0});
  CHECK(uids("Uid:\t0\t0\t0\t0\n") == P{0, 0});
  CHECK(uids("Name:\tx\nUid:  4294967295 1 2 3") == P{4294967295, 1});
  CHECK(uids("Uid:\t5\t6") == P{5, 6});
  CHECK(uids("Name:\tx\nGid:\t0\t0\n") == P{-1, -1});
  CHECK(uids("Name:\tUid:\t5\t5\n") == P{-1, -1});  // not at a line start
  CHECK(uids("Uid:\n") == P{-1, -1});
  CHECK(uids("Uid:\t5\nGid:\t6\n") == P{-1, -1});  // the effective uid is not on the next line
  CHECK(uids("Uid:\tnobody\t0\n") == P{-1, -1});
  CHECK(uids("Uid:\t4294967296\t0\n") == P{-1, -1});
  CHECK(uids("") == P{-1, -1});
}

TEST_CASE("split_cmdline keeps empty arguments and reuses the vector's strings", "[procfs]") {
  std::vector<std::string> out = {std::string(100, 'z'), "b", "c", "d", "e"};
  const char* kept = out[0].data();
  split_cmdline(std::string_view("/bin/sh\0-c\0\0echo hi\0", 20), out);
  CHECK(out == args({"/bin/sh", "-c", "", "echo hi"}));
  CHECK(out[0].data() == kept);  // capacity reused, no new allocation
  split_cmdline("nginx: worker process", out);
  CHECK(out == args({"nginx: worker process"}));
  split_cmdline(std::string_view("\0", 1), out);
  CHECK(out == args({""}));
  split_cmdline("", out);
  CHECK(out.empty());
}

// ---- ProcReader on the committed fixture tree --------------------------------------------------

TEST_CASE("fixture processes read back with every field", "[procfs]") {
  ProcReader reader(kFixtureRoot);
  ProcessInfo info;

  SECTION("init: v2 cgroup, exe, argv") {
    REQUIRE(reader.read_process(1, true, info) == ReadError::kNone);
    CHECK(info.comm == "systemd");
    CHECK(info.exe == "/usr/lib/systemd/systemd");
    CHECK(info.cmdline == args({"/sbin/init", "splash"}));
    CHECK_FALSE(info.cmdline_truncated);
    CHECK(info.ruid == expected_uid(1, 0));
    CHECK(info.euid == expected_uid(1, 0));
    CHECK(info.ppid == 0);
    CHECK(info.start_time_ticks == 13);
    CHECK(info.cgroup == "0::/init.scope\n");
  }
  SECTION("kernel thread: empty cmdline, no exe") {
    REQUIRE(reader.read_process(2, true, info) == ReadError::kNone);
    CHECK(info.comm == "kthreadd");
    CHECK(info.exe.empty());
    CHECK(info.cmdline.empty());
    CHECK(info.start_time_ticks == 0);
  }
  SECTION("parentheses in comm, odd argv bytes, deleted exe, real uid from status") {
    REQUIRE(reader.read_process(42, true, info) == ReadError::kNone);
    CHECK(info.comm == "a) b (c");
    CHECK(info.exe == "/tmp/my prog");
    CHECK(info.cmdline == args({"x", "", "\xff\xfe", "last"}));
    CHECK(info.ruid == expected_uid(42, 1000));  // a setuid-root program run by uid 1000
    CHECK(info.euid == expected_uid(42, 0));
    CHECK(info.ppid == 1);
    CHECK(info.start_time_ticks == 98765);
    CHECK(info.cgroup.find("1:name=systemd:/docker/") != std::string::npos);
  }
  SECTION("newline in comm; no status") {
    REQUIRE(reader.read_process(43, false, info) == ReadError::kNone);
    CHECK(info.comm == "two\nlines ");
    CHECK(info.cmdline == args({"nginx: worker process"}));
    CHECK(info.exe == "/usr/sbin/nginx");
    CHECK(info.ruid == expected_uid(43, 0));  // root-owned without status: 0
    CHECK(info.euid == expected_uid(43, 0));
    CHECK(info.start_time_ticks == 123456789012u);
    CHECK(info.cgroup.empty());
  }
  SECTION("zombie: stat only") {
    REQUIRE(reader.read_process(100, true, info) == ReadError::kNone);
    CHECK(info.comm == "defunct");
    CHECK(info.cmdline.empty());
    CHECK(info.exe.empty());
    CHECK(info.ruid == expected_uid(100, 1000));
    CHECK(info.euid == expected_uid(100, 1000));
    CHECK(info.cgroup.empty());  // no cgroup file: still a success
  }
}

TEST_CASE("a reused ProcessInfo carries nothing over from the previous process", "[procfs]") {
  ProcReader reader(kFixtureRoot);
  ProcessInfo info;
  REQUIRE(reader.read_process(42, true, info) == ReadError::kNone);
  REQUIRE(reader.read_process(2, false, info) == ReadError::kNone);
  CHECK(info.comm == "kthreadd");
  CHECK(info.exe.empty());
  CHECK(info.cmdline.empty());
  CHECK(info.cgroup.empty());
  CHECK(info.ruid == expected_uid(2, 0));
  CHECK(info.euid == expected_uid(2, 0));
  CHECK(info.ppid == 0);
}

TEST_CASE("only the parts asked for are read, and stat always", "[procfs]") {
  ProcReader reader(kFixtureRoot);
  ProcessInfo info;
  REQUIRE(reader.read_process(42, true, info) == ReadError::kNone);  // everything, then nothing
  reader.set_parts({.cmdline = false, .exe = false, .exe_identity = false, .uids = false});
  REQUIRE(reader.read_process(42, true, info) == ReadError::kNone);
  CHECK(info.comm == "a) b (c");
  CHECK(info.ppid == 1);
  CHECK(info.start_time_ticks == 98765);
  CHECK(info.cgroup.find("1:name=systemd:/docker/") != std::string::npos);  // asked for by the call
  CHECK(info.cmdline.empty());
  CHECK(info.exe.empty());
  CHECK(info.exe_device == 0);
  CHECK(info.exe_inode == 0);
  CHECK(info.ruid == 0);
  CHECK(info.euid == 0);
  reader.set_parts({.cmdline = true, .exe = false, .exe_identity = false, .uids = true});
  REQUIRE(reader.read_process(42, false, info) == ReadError::kNone);
  CHECK(info.cmdline == args({"x", "", "\xff\xfe", "last"}));
  CHECK(info.exe.empty());
  CHECK(info.euid == expected_uid(42, 0));
  CHECK(info.ruid == expected_uid(42, 1000));
}

TEST_CASE("missing processes are kGone and malformed stat is kOther", "[procfs]") {
  ProcReader reader(kFixtureRoot);
  ProcessInfo info;
  CHECK(reader.read_process(7777, true, info) == ReadError::kGone);  // no directory
  CHECK(reader.read_process(202, true, info) == ReadError::kGone);   // directory without stat
  CHECK(reader.read_process(0, true, info) == ReadError::kGone);
  CHECK(reader.read_process(-1, true, info) == ReadError::kGone);
  CHECK(reader.read_process(200, true, info) == ReadError::kOther);  // no parentheses
  CHECK(reader.read_process(201, true, info) == ReadError::kOther);  // cut short
  CHECK(reader.read_process(203, true, info) == ReadError::kOther);  // stat is a directory (EISDIR)

  std::uint64_t start = 0;
  std::int32_t ppid = 0;
  std::string comm;
  CHECK(reader.read_stat(7777, start, ppid, comm) == ReadError::kGone);
  CHECK(reader.read_stat(200, start, ppid, comm) == ReadError::kOther);
  REQUIRE(reader.read_stat(42, start, ppid, comm) == ReadError::kNone);
  CHECK(comm == "a) b (c");
  CHECK(ppid == 1);
  CHECK(start == 98765);

  ProcReader nowhere("/nonexistent/proc");
  CHECK(nowhere.read_process(1, true, info) == ReadError::kGone);
}

TEST_CASE("for_each_pid lists numeric directories only", "[procfs]") {
  ProcReader reader(kFixtureRoot);
  std::vector<std::int32_t> pids;
  reader.for_each_pid([&](std::int32_t pid) { pids.push_back(pid); });
  std::sort(pids.begin(), pids.end());
  // Not "self", "sys", "123abc", "stat" nor the numeric regular file "99999".
  CHECK(pids == std::vector<std::int32_t>{1, 2, 42, 43, 100, 200, 201, 202, 203});

  ProcReader nowhere("/nonexistent/proc");
  int calls = 0;
  nowhere.for_each_pid([&](std::int32_t) { ++calls; });
  CHECK(calls == 0);
}

TEST_CASE("the kernel fork counter and boot time come from /proc/stat", "[procfs]") {
  ProcReader reader(kFixtureRoot);
  CHECK(reader.read_kernel_forks() == 921107u);
  CHECK(reader.read_boot_time() == 1795586915u);
  ProcReader nowhere("/nonexistent/proc");
  CHECK_FALSE(nowhere.read_kernel_forks());
  CHECK_FALSE(nowhere.read_boot_time());
}

TEST_CASE("/proc/stat lines are found after an intr line longer than any buffer", "[procfs]") {
  TempTree tree;
  REQUIRE_FALSE(tree.root().empty());
  ProcReader reader(tree.root());

  std::string intr = "intr 123";
  while (intr.size() < 300000) intr += " 0 17 4096";
  REQUIRE(tree.write("stat", "cpu  1 2 3\n" + intr + "\nctxt 5\nbtime 1700000000\nprocesses 42424242\nprocs_running 1\n"));
  CHECK(reader.read_kernel_forks() == 42424242u);
  CHECK(reader.read_boot_time() == 1700000000u);

  // First line, last line without a newline, lookalike keys, bad values.
  REQUIRE(tree.write("stat", "processes 7\nbtime 9"));
  CHECK(reader.read_kernel_forks() == 7u);
  CHECK(reader.read_boot_time() == 9u);
  REQUIRE(tree.write("stat", "processesx 7\nprocesses_total 8\nbtime\n"));
  CHECK_FALSE(reader.read_kernel_forks());
  CHECK_FALSE(reader.read_boot_time());
  REQUIRE(tree.write("stat", "processes 12x\nbtime -3\n"));
  CHECK_FALSE(reader.read_kernel_forks());
  CHECK_FALSE(reader.read_boot_time());
  REQUIRE(tree.write("stat", "processes " + std::string(100, '1') + "\n"));  // longer than a line head
  CHECK_FALSE(reader.read_kernel_forks());
  REQUIRE(tree.write("stat", ""));
  CHECK_FALSE(reader.read_kernel_forks());
}

TEST_CASE("a huge cmdline is cut at kMaxCmdlineBytes and marked truncated", "[procfs]") {
  TempTree tree;
  REQUIRE_FALSE(tree.root().empty());
  ProcReader reader(tree.root());
  ProcessInfo info;
  REQUIRE(tree.write("10/stat", stat_line(10, "big", 1, 100)));

  // A long Java classpath is read whole (process-exporter matches the whole command line).
  const std::string classpath = "-cp " + std::string(120000, 'j');
  REQUIRE(tree.write("10/cmdline", std::string("java") + '\0' + classpath + '\0' + "Main" + '\0'));
  REQUIRE(reader.read_process(10, false, info) == ReadError::kNone);
  CHECK_FALSE(info.cmdline_truncated);
  CHECK(info.cmdline == args({"java", classpath, "Main"}));

  std::string huge;
  for (int i = 0; huge.size() <= procevents::kMaxCmdlineBytes; ++i) huge += "argument-" + std::to_string(i) + '\0';
  REQUIRE(tree.write("10/cmdline", huge));
  REQUIRE(reader.read_process(10, false, info) == ReadError::kNone);
  CHECK(info.cmdline_truncated);
  std::size_t bytes = 0;
  for (const std::string& arg : info.cmdline) bytes += arg.size() + 1;
  CHECK(bytes - 1 <= procevents::kMaxCmdlineBytes);  // the cut last argument has no NUL
  CHECK(bytes >= procevents::kMaxCmdlineBytes);
  CHECK(info.cmdline.front() == "argument-0");

  // Exactly the limit is not truncated; one byte more is.
  REQUIRE(tree.write("10/cmdline", std::string(procevents::kMaxCmdlineBytes - 1, 'a') + '\0'));
  REQUIRE(reader.read_process(10, false, info) == ReadError::kNone);
  CHECK_FALSE(info.cmdline_truncated);
  CHECK(info.cmdline.size() == 1);
  REQUIRE(tree.write("10/cmdline", std::string(procevents::kMaxCmdlineBytes, 'a') + '\0'));
  REQUIRE(reader.read_process(10, false, info) == ReadError::kNone);
  CHECK(info.cmdline_truncated);
  CHECK(info.cmdline == args({std::string(procevents::kMaxCmdlineBytes, 'a')}));
}

TEST_CASE("a cgroup file longer than the limit keeps only whole lines", "[procfs]") {
  TempTree tree;
  REQUIRE_FALSE(tree.root().empty());
  ProcReader reader(tree.root());
  ProcessInfo info;
  REQUIRE(tree.write("11/stat", stat_line(11, "cg", 1, 100)));
  std::string text;
  for (int i = 0; text.size() < 2 * kMaxCgroupBytes; ++i) text += std::to_string(i + 1) + ":ctl:/some/long/path/" + std::string(80, 'p') + "\n";
  REQUIRE(tree.write("11/cgroup", text));
  REQUIRE(reader.read_process(11, true, info) == ReadError::kNone);
  CHECK(info.cgroup.size() <= kMaxCgroupBytes);
  CHECK_FALSE(info.cgroup.empty());
  CHECK(info.cgroup.back() == '\n');
  CHECK(text.starts_with(info.cgroup));

  // A single line longer than the limit leaves nothing rather than half a path.
  REQUIRE(tree.write("11/cgroup", "0::/" + std::string(2 * kMaxCgroupBytes, 'x') + "\n"));
  REQUIRE(reader.read_process(11, true, info) == ReadError::kNone);
  CHECK(info.cgroup.empty());
}

TEST_CASE("unreadable files: stat is kPermission, anything else is left empty", "[procfs]") {
  TempTree tree;
  REQUIRE_FALSE(tree.root().empty());
  REQUIRE(tree.write("20/stat", stat_line(20, "locked", 1, 100)));
  REQUIRE(tree.write("20/cmdline", std::string("secret\0", 7), 0000));
  REQUIRE(tree.write("20/cgroup", "0::/system.slice/x.service\n", 0000));
  REQUIRE(tree.write("20/status", "Uid:\t0\t0\t0\t0\n", 0000));
  REQUIRE(tree.write("21/stat", stat_line(21, "locked", 1, 100), 0000));
  REQUIRE(tree.write("22/stat", stat_line(22, "hidden", 1, 100)));
  REQUIRE(::chmod((tree.root() + "/22").c_str(), 0700) == 0);

  const std::string root = tree.root();
  const bool as_root = ::geteuid() == 0;  // only root's child runs as another user than the directory's owner
  // Exit codes say which check failed.
  const int failed = run_unprivileged([root, as_root] {
    ProcReader reader(root);
    ProcessInfo info;
    if (reader.read_process(20, true, info) != ReadError::kNone) return 1;
    if (info.comm != "locked" || !info.cmdline.empty() || !info.cgroup.empty()) return 2;
    if (reader.read_process(21, true, info) != ReadError::kPermission) return 3;
    if (as_root && reader.read_process(22, true, info) != ReadError::kPermission) return 4;
    std::uint64_t start = 0;
    std::int32_t ppid = 0;
    if (reader.read_stat(21, start, ppid, info.comm) != ReadError::kPermission) return 5;
    return 0;
  });
  CHECK(failed == 0);
}

TEST_CASE("a non-root owner of /proc/<pid> is the uid, a root owner sends us to status", "[procfs]") {
  if (::geteuid() != 0) {
    WARN("skipped: giving a fixture directory another owner needs root");
    return;
  }
  TempTree tree;
  REQUIRE_FALSE(tree.root().empty());
  REQUIRE(tree.write("30/stat", stat_line(30, "user", 1, 100)));
  REQUIRE(tree.write("30/status", "Uid:\t0\t0\t0\t0\n"));  // not read: the owner decides
  REQUIRE(::chown((tree.root() + "/30").c_str(), 1234, 1234) == 0);
  REQUIRE(tree.write("31/stat", stat_line(31, "sudo", 1, 100)));
  REQUIRE(tree.write("31/status", "Uid:\t1234\t0\t0\t0\n"));
  ProcReader reader(tree.root());
  ProcessInfo info;
  REQUIRE(reader.read_process(30, false, info) == ReadError::kNone);
  CHECK(info.ruid == 1234);
  CHECK(info.euid == 1234);
  REQUIRE(reader.read_process(31, false, info) == ReadError::kNone);
  CHECK(info.ruid == 1234);
  CHECK(info.euid == 0);
}

// ---- UserNames ---------------------------------------------------------------------------------

TEST_CASE("user names come from the passwd database, numbers when unknown, bounded", "[procfs]") {
  UserNames names(3);
  CHECK(names.name_for(0) == "root");
  CHECK(names.name_for(4000000000u) == "4000000000");
  CHECK(names.name_for(4000000000u) == "4000000000");  // cached answer
  for (std::uint32_t uid = 3999999000u; uid < 3999999010u; ++uid) {
    CHECK(names.name_for(uid) == std::to_string(uid));
    CHECK(names.size() <= 3);
  }
  CHECK(names.name_for(0) == "root");
}
