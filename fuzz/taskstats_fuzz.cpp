// libFuzzer target: any bytes as one received taskstats datagram, through ItemCursor and parse_stats.
// Besides "no crash, no out-of-bounds read" (ASan/UBSan), it checks the cursor's documented
// contract: it makes progress (each item consumes at least an attribute header) and terminates, a
// malformed item ends the datagram and carries a reason (and only it does), every record comes from
// an aggregate with its id and stats, and version-gated fields are absent below version 12.
// Every field of every record is read, so a field left uninitialised or read out of bounds shows.
#include <linux/taskstats.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "taskstats/exit_record.h"
#include "taskstats/parser.h"

namespace {

using namespace procevents::taskstats;

constexpr std::uint16_t kFamily = 0x1c;    // the family id the seeds use
constexpr std::size_t kAttributeHeader = 4;  // the smallest thing an item can consume
constexpr std::size_t kCoreStatsBytes = offsetof(struct ::taskstats, ac_minflt);

void require(bool ok, const char* invariant) {
  if (!ok) {
    std::fprintf(stderr, "taskstats_fuzz: broken invariant: %s\n", invariant);
    std::abort();
  }
}

volatile std::uint64_t g_sink;  // keeps the reads from being optimised away

void touch(const ExitRecord& r) {
  std::uint64_t sum = static_cast<std::uint64_t>(r.scope) + r.flags + r.version + r.present;
  sum += static_cast<std::uint32_t>(r.pid) + static_cast<std::uint32_t>(r.tgid) + static_cast<std::uint32_t>(r.ppid);
  sum += r.uid + r.gid + r.exit_code + r.elapsed_us + r.user_cpu_us + r.system_cpu_us + r.peak_rss_kib;
  sum += r.read_bytes + r.write_bytes + r.voluntary_switches + r.involuntary_switches;
  sum += r.cpu_delay_ns + r.blkio_delay_ns + r.exe_dev + r.exe_inode;
  for (const char c : r.comm) sum += static_cast<unsigned char>(c);

  const std::string_view comm = r.comm_view();
  require(comm.size() < r.comm.size(), "comm is NUL-terminated within its 16 bytes");
  for (std::size_t i = comm.size(); i < r.comm.size(); ++i) require(r.comm[i] == '\0', "comm is zero after its end");
  sum += comm.size();

  require(r.scope == RecordScope::kTask || r.scope == RecordScope::kThreadGroup, "scope is one of the two");
  constexpr std::uint32_t kKnown =
      present::kMemory | present::kStorageIo | present::kContextSwitches | present::kTgid | present::kExe;
  require((r.present & ~kKnown) == 0, "only known present bits");
  if (r.version < 12) require((r.present & (present::kTgid | present::kExe)) == 0, "no v12 fields below version 12");
  // A part the struct does not carry is 0.
  if (!r.has(present::kMemory)) require(r.peak_rss_kib == 0, "absent memory is 0");
  if (!r.has(present::kStorageIo)) require(r.read_bytes == 0 && r.write_bytes == 0, "absent storage I/O is 0");
  if (!r.has(present::kContextSwitches)) {
    require(r.voluntary_switches == 0 && r.involuntary_switches == 0, "absent context switches are 0");
  }
  if (!r.has(present::kTgid)) require(r.tgid == 0, "absent tgid is 0");
  if (!r.has(present::kExe)) require(r.exe_dev == 0 && r.exe_inode == 0, "absent exe is 0");
  sum += r.has(present::kMemory) + r.has(present::kExe);
  g_sink = g_sink + sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);

  ItemCursor cursor(bytes, kFamily);
  Item item;
  std::size_t items = 0;
  bool more = true;
  while ((more = cursor.next(item))) {
    ++items;
    require(items <= size / kAttributeHeader + 1, "each item consumes at least an attribute header");
    require((item.kind == ItemKind::kMalformed) == (item.malformed != MalformedReason::kNone),
            "a malformed reason is set exactly for kMalformed");
    require(static_cast<std::size_t>(item.malformed) < kMalformedReasonCount, "the reason is a known one");
    require(malformed_reason_name(item.malformed) != "unknown", "every malformed reason has a name");
    require((item.kind == ItemKind::kNetlinkError) == (item.netlink_errno != 0),
            "netlink_errno is set exactly for kNetlinkError");
    if (item.kind == ItemKind::kNetlinkError) require(item.netlink_errno > 0, "a netlink errno is positive");
    switch (item.kind) {
      case ItemKind::kRecord:
        touch(item.record);
        break;
      case ItemKind::kMalformed: {
        Item after;
        require(!cursor.next(after), "a malformed item ends the datagram");
        require(!cursor.next(after), "and the cursor stays exhausted");
        break;
      }
      case ItemKind::kSkipped:
      case ItemKind::kOverrun:
      case ItemKind::kNetlinkError:
        break;
    }
    g_sink = g_sink + static_cast<std::uint64_t>(item.kind) + static_cast<std::uint32_t>(item.netlink_errno);
  }
  require(!more && !cursor.next(item), "an exhausted cursor stays exhausted");
  if (size > 0 && size < 16) require(items == 1, "a datagram shorter than a netlink header is one malformed item");

  // The same bytes as a bare struct taskstats.
  ExitRecord record;
  record.scope = RecordScope::kThreadGroup;
  record.pid = 12345;
  if (parse_stats(bytes, record)) {
    require(size >= kCoreStatsBytes, "a record needs the core fields");
    require(record.scope == RecordScope::kThreadGroup && record.pid == 12345, "scope and pid are the caller's");
    touch(record);
  } else {
    require(size < kCoreStatsBytes, "only a short struct is refused");
    require(record.pid == 12345 && record.present == 0 && record.version == 0, "a refused struct leaves out alone");
  }
  return 0;
}
