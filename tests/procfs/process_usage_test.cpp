#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "procfs/process_usage.h"

using namespace procevents::procfs;

TEST_CASE("process_state maps stat's state letter to process-exporter's five", "[procfs]") {
  const std::pair<char, ProcessState> rows[] = {
      {'R', ProcessState::kRunning}, {'S', ProcessState::kSleeping}, {'D', ProcessState::kWaiting},
      {'Z', ProcessState::kZombie},  {'T', ProcessState::kOther},    {'t', ProcessState::kOther},
      {'I', ProcessState::kOther},   {'X', ProcessState::kOther},    {'?', ProcessState::kOther},
  };
  for (const auto& [letter, state] : rows) {
    CAPTURE(letter);
    CHECK(process_state(letter) == state);
  }
}

TEST_CASE("parse_stat_usage reads state, faults and threads too", "[procfs]") {
  const auto usage = parse_stat_usage(
      "77 (a b) c) D 1 77 77 0 -1 4194560 1234 0 56 0 10 20 0 0 20 0 9 0 500 1000 25 18446744073709551615\n");
  REQUIRE(usage);
  CHECK(usage->state == 'D');
  CHECK(usage->minor_faults == 1234u);
  CHECK(usage->major_faults == 56u);
  CHECK(usage->threads == 9u);
  CHECK_FALSE(parse_stat_usage("77 (x) DD 1 77 77 0 -1 4194560 1234 0 56 0 10 20 0 0 20 0 9 0 500 1000 25\n"));
  CHECK_FALSE(parse_stat_usage("77 (x) D 1 77 77 0 -1 4194560 -1 0 56 0 10 20 0 0 20 0 9 0 500 1000 25\n"));
}

TEST_CASE("parse_status_usage reads VmSwap and the context switches", "[procfs]") {
  const std::string status =
      "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nVmRSS:\t    4096 kB\nVmSwap:\t     128 kB\nThreads:\t1\n"
      "voluntary_ctxt_switches:\t41\nnonvoluntary_ctxt_switches:\t5\n";
  const auto usage = parse_status_usage(status);
  REQUIRE(usage);
  CHECK(usage->swapped_bytes == 128u * 1024);
  CHECK(usage->voluntary_switches == 41u);
  CHECK(usage->involuntary_switches == 5u);

  SECTION("a kernel thread or a zombie has no VmSwap: 0") {
    const auto kthread = parse_status_usage("Name:\tkworker/0:1\nvoluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t0");
    REQUIRE(kthread);
    CHECK(kthread->swapped_bytes == 0u);
    CHECK(kthread->voluntary_switches == 3u);
  }
  SECTION("malformed or cut text is refused, never read as 0") {
    const std::string rows[] = {
        "",
        "VmSwap:\t128 kB\nvoluntary_ctxt_switches:\t41\n",                                    // cut
        "VmSwap:\t128 MB\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t2\n",     // unit
        "VmSwap:\tx kB\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t2\n",
        "voluntary_ctxt_switches:\t-1\nnonvoluntary_ctxt_switches:\t2\n",
    };
    for (const std::string& text : rows) {
      CAPTURE(text);
      CHECK_FALSE(parse_status_usage(text));
    }
  }
}

TEST_CASE("parse_io reads the storage bytes", "[procfs]") {
  const auto io = parse_io("rchar: 6976\nwchar: 0\nsyscr: 10\nsyscw: 0\nread_bytes: 8126464\nwrite_bytes: 4960256\n"
                           "cancelled_write_bytes: 0\n");
  REQUIRE(io);
  CHECK(io->read_bytes == 8126464u);
  CHECK(io->write_bytes == 4960256u);
  CHECK_FALSE(parse_io("rchar: 6976\nwchar: 0\n"));
  CHECK_FALSE(parse_io("read_bytes: 1\nwrite_bytes: x\n"));
}

TEST_CASE("parse_open_files_limit reads the soft limit", "[procfs]") {
  const std::string head = "Limit                     Soft Limit           Hard Limit           Units     \n"
                           "Max cpu time              unlimited            unlimited            seconds   \n";
  CHECK(parse_open_files_limit(head + "Max open files            1024                 524288               files     \n") == 1024u);
  CHECK(parse_open_files_limit(head + "Max open files            unlimited            unlimited            files     \n") == 0u);
  CHECK_FALSE(parse_open_files_limit(head));
  CHECK_FALSE(parse_open_files_limit(head + "Max open files            lots                 524288               files\n"));
}

TEST_CASE("UsageReader reads this process: threads, memory, fds, its limit", "[procfs]") {
  UsageReader reader;
  ProcessUsage before;
  REQUIRE(reader.read(::getpid(), UsageReader::kAnyStart, UsageParts{.status = true, .io = true, .fds = true}, before) == ReadError::kNone);

  // 16 MiB touched, 3 more threads and 20 more descriptors, all held while reading again.
  constexpr std::size_t kBytes = 16u << 20;
  void* memory = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(memory != MAP_FAILED);
  std::memset(memory, 1, kBytes);
  std::vector<procevents::UniqueFd> fds;
  for (int i = 0; i < 20; ++i) fds.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&] { while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1)); });

  ProcessUsage after;
  const ReadError error = reader.read(::getpid(), before.stat.start_time_ticks, UsageParts{.status = true, .io = true, .fds = true}, after);
  stop = true;
  for (std::thread& thread : threads) thread.join();
  ::munmap(memory, kBytes);
  REQUIRE(error == ReadError::kNone);

  CHECK(after.stat.threads == before.stat.threads + 3);
  CHECK(after.stat.rss_pages * ::sysconf(_SC_PAGESIZE) >= before.stat.rss_pages * ::sysconf(_SC_PAGESIZE) + std::int64_t{kBytes} * 9 / 10);
  CHECK(after.stat.vsize_bytes >= before.stat.vsize_bytes + kBytes);
  CHECK(after.stat.minor_faults >= before.stat.minor_faults + kBytes / 4096 / 2);
  CHECK(after.unreadable == 0);
  REQUIRE(after.fds);
  REQUIRE(before.fds);
  CHECK(after.fds->open == before.fds->open + 20);
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  CHECK(after.fds->limit == (limit.rlim_cur == RLIM_INFINITY ? 0 : limit.rlim_cur));
  REQUIRE(after.status);
  CHECK(after.status->voluntary_switches >= before.status->voluntary_switches);
  REQUIRE(after.io);
}

TEST_CASE("UsageReader says gone for a pid that started later than the process it should name", "[procfs]") {
  UsageReader reader;
  ProcessUsage usage;
  REQUIRE(reader.read(::getpid(), UsageReader::kAnyStart, {}, usage) == ReadError::kNone);
  const std::uint64_t started = usage.stat.start_time_ticks;
  CHECK(reader.read(::getpid(), started, {}, usage) == ReadError::kNone);
  CHECK(reader.read(::getpid(), started - 1, {}, usage) == ReadError::kGone);
  CHECK(reader.read(0, UsageReader::kAnyStart, {}, usage) == ReadError::kGone);
  CHECK(reader.read(-5, UsageReader::kAnyStart, {}, usage) == ReadError::kGone);
}

TEST_CASE("UsageReader reads a fixture tree and refuses malformed stat", "[procfs]") {
  char dir_template[] = "/tmp/usage-fixture-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::string root = dir_template;
  const auto write = [&](const std::string& path, const std::string& text) {
    const procevents::UniqueFd fd(::open((root + path).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    REQUIRE(fd.get() >= 0);
    REQUIRE(::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  };
  REQUIRE(::mkdir((root + "/42").c_str(), 0755) == 0);
  REQUIRE(::mkdir((root + "/42/fd").c_str(), 0755) == 0);
  write("/42/stat", "42 (w) S 1 42 42 0 -1 0 10 0 2 0 300 100 0 0 20 0 4 0 777 4096 3\n");
  write("/42/status", "Name:\tw\nvoluntary_ctxt_switches:\t7\n");  // cut: no nonvoluntary line
  write("/42/io", "read_bytes: 4096\nwrite_bytes: 8192\n");
  write("/42/limits", "Max open files            64                 64               files     \n");
  write("/42/fd/3", "");
  write("/42/fd/4", "");
  UsageReader reader(root);
  ProcessUsage usage;
  REQUIRE(reader.read(42, 777, UsageParts{.status = true, .io = true, .fds = true}, usage) == ReadError::kNone);
  CHECK(usage.stat.utime_ticks == 300u);
  CHECK(usage.stat.threads == 4u);
  CHECK(usage.io->read_bytes == 4096u);
  CHECK(usage.fds->limit == 64u);
  CHECK(usage.fds->open == 2u);
  CHECK_FALSE(usage.status);  // malformed: unreadable, counted, never read as 0
  CHECK(usage.unreadable == ProcessUsage::kUnreadableStatus);

  write("/42/stat", "42 (w) S 1 42 42\n");
  CHECK(reader.read(42, UsageReader::kAnyStart, {}, usage) == ReadError::kOther);
  CHECK(reader.read(43, UsageReader::kAnyStart, {}, usage) == ReadError::kGone);
  write("/42/stat", "42 (w) S 1 42 42 0 -1 0 10 0 2 0 300 100 0 0 20 0 4 0 777 4096 3\n");
  ::unlink((root + "/42/io").c_str());  // a part gone means the process went away meanwhile
  CHECK(reader.read(42, UsageReader::kAnyStart, UsageParts{.io = true}, usage) == ReadError::kGone);
  std::system(("rm -rf " + root).c_str());
}
