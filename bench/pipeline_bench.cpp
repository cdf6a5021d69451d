// Benchmarks that need no kernel: prints figures, asserts nothing.
//
//   pipeline   synthetic connector and taskstats datagrams -> parse -> the receiver's ring
//              (receiver::EventRing of PipelineItem) -> aggregate, on one core, for {1k, 100k} live
//              processes x {10, 1000} groups: items/s, ns/item, allocations/item. Every exit event
//              is preceded by its task's exit record, as the receiver orders them, so every record
//              is joined and charged.
//   scrape     /metrics for 10, 500 and 1000 groups, default and detailed (per_group: [all]), exit
//              costs included: series per group and per host, bytes plain and gzipped, render time; then
//              the protobuf exposition of the same snapshots (every group's lifetime and peak memory as
//              native histograms): series, bytes, render time and ns per series beside the text's
//   memory     resident memory with 100k tracked processes, 1000 groups and a full ring
//   attribution  /proc identification cost per exec, with and without cgroup classification
//   scope      identification per exec (the real ProcessIdentifier on this process) for the whole host,
//              with cgroup reads, and scoped with the process outside and inside the scope; and one
//              pass of the scope's re-check (cgroup.procs walk, table scan)
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <variant>
#include <vector>

#include "aggregator/aggregator.h"
#include "attribution/cgroup.h"
#include "procfs/procfs.h"
#include "procfs/procfs_inspector.h"
#include "connector/parser.h"
#include "connector/wire.h"
#include "metrics/exposition.h"
#include "receiver/pipeline_item.h"
#include "ring/spsc_ring.h"
#include "taskstats/parser.h"

// Count every allocation in the process (the hot path must make none).
static std::atomic<std::uint64_t> g_allocations{0};
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }  // NOLINT: pairs with our operator new

using namespace procevents;
using Clock = std::chrono::steady_clock;

namespace {

class FakeInspector final : public procfs::ProcessInspector {
 public:
  std::vector<std::string> group_names;
  std::int32_t seeded = 0;
  procfs::ReadError inspect(std::int32_t pid, bool, procfs::ProcessInfo& out) override {
    out.comm.assign(group_names[static_cast<std::size_t>(pid) % group_names.size()]);  // reuses capacity
    out.exe.clear();
    out.cmdline.clear();
    return procfs::ReadError::kNone;
  }
  void list_processes(std::vector<std::int32_t>& pids) override {
    pids.clear();
    for (std::int32_t pid = 1; pid <= seeded; ++pid) pids.push_back(pid);
  }
  bool exists(std::int32_t pid) override { return pid <= seeded; }
  std::string_view user_name(std::uint32_t) override { return "root"; }
};

std::vector<std::byte> datagram(std::uint32_t what, std::uint32_t seq, const std::vector<std::uint32_t>& words) {
  std::vector<std::byte> out(connector::wire::kEventMessageSize);
  const connector::wire::NlMsgHdr header{static_cast<std::uint32_t>(out.size()), connector::wire::kNlmsgDone, 0, 0, 0};
  const connector::wire::CnMsg cn{1, 1, seq, 0, 40, 0};
  std::memcpy(out.data(), &header, 16);
  std::memcpy(out.data() + 16, &cn, 20);
  const std::uint32_t cpu = 0;
  const std::uint64_t ts = 1'000'000'000ull + seq * 1000ull;
  std::memcpy(out.data() + 36, &what, 4);
  std::memcpy(out.data() + 40, &cpu, 4);
  std::memcpy(out.data() + 44, &ts, 8);
  for (std::size_t i = 0; i < words.size(); ++i) std::memcpy(out.data() + 52 + i * 4, &words[i], 4);
  return out;
}

constexpr std::uint16_t kTaskstatsFamily = 0x1d;  // any id: the parser is told which one is ours

void put_attribute_header(std::vector<std::byte>& out, std::size_t at, std::size_t length, std::uint16_t type) {
  const std::uint16_t header[2] = {static_cast<std::uint16_t>(length), type};
  std::memcpy(out.data() + at, header, sizeof header);
}

/// A taskstats exit message as the kernel sends it for a task of a single-threaded process or for a
/// thread that is not its process's last: TASKSTATS_TYPE_AGGR_PID { TYPE_PID, TYPE_STATS }.
std::vector<std::byte> exit_record_datagram(std::uint32_t seq, std::uint32_t pid, std::uint32_t tgid, std::uint32_t ppid,
                                            std::string_view comm) {
  struct ::taskstats stats{};
  stats.version = TASKSTATS_VERSION;
  stats.ac_pid = pid;
  stats.ac_tgid = tgid;
  stats.ac_ppid = ppid;
  stats.ac_flag = pid == tgid ? 0 : 0x01;
  stats.ac_etime = 1500 + seq % 1000;
  stats.ac_utime = 300 + seq % 7;
  stats.ac_stime = 200 + seq % 5;
  stats.hiwater_rss = 2048 + seq % 4096;
  stats.read_bytes = 4096;
  stats.write_bytes = 8192;
  stats.nvcsw = 3;
  stats.nivcsw = 1;
  std::memcpy(stats.ac_comm, comm.data(), std::min(comm.size(), sizeof stats.ac_comm - 1));

  constexpr std::size_t kHeaders = NLMSG_HDRLEN + GENL_HDRLEN;
  constexpr std::size_t kPidAttr = NLA_HDRLEN + 4;
  constexpr std::size_t kStatsAttr = NLA_HDRLEN + sizeof stats;
  constexpr std::size_t kAggregate = NLA_HDRLEN + NLA_ALIGN(kPidAttr) + kStatsAttr;
  std::vector<std::byte> out(NLMSG_ALIGN(kHeaders + NLA_ALIGN(kAggregate)));
  const nlmsghdr header{static_cast<std::uint32_t>(out.size()), kTaskstatsFamily, 0, seq, 0};
  const genlmsghdr genl{TASKSTATS_CMD_NEW, TASKSTATS_GENL_VERSION, 0};
  std::memcpy(out.data(), &header, sizeof header);
  std::memcpy(out.data() + NLMSG_HDRLEN, &genl, sizeof genl);
  std::size_t at = kHeaders;
  put_attribute_header(out, at, kAggregate, NLA_F_NESTED | TASKSTATS_TYPE_AGGR_PID);
  at += NLA_HDRLEN;
  put_attribute_header(out, at, kPidAttr, TASKSTATS_TYPE_PID);
  std::memcpy(out.data() + at + NLA_HDRLEN, &pid, 4);
  at += NLA_ALIGN(kPidAttr);
  put_attribute_header(out, at, kStatsAttr, TASKSTATS_TYPE_STATS);
  std::memcpy(out.data() + at + NLA_HDRLEN, &stats, sizeof stats);
  return out;
}

/// One received datagram and the socket it came from.
struct Datagram {
  bool taskstats = false;
  std::vector<std::byte> bytes;
};

/// A repeating mix per cycle: a thread of a live process starts and ends, a child is forked, execs
/// and exits (5 connector events, 1 exec), and each exit is preceded by its task's exit record
/// (2 records): 7 ring items. Children reuse a small pid range so the table stays steady.
std::vector<Datagram> make_mix(std::int32_t live, std::size_t cycles, const std::vector<std::string>& comms,
                               std::size_t pid_range = 500) {
  std::vector<Datagram> out;
  std::uint32_t seq = 0;
  for (std::size_t i = 0; i < cycles; ++i) {
    const auto parent = static_cast<std::uint32_t>(1 + (i * 7919) % static_cast<std::size_t>(live));
    const auto thread = static_cast<std::uint32_t>(live + 1000 + i % pid_range);
    const auto child = static_cast<std::uint32_t>(live + 1000 + pid_range + i % pid_range);
    const std::string& parent_comm = comms[parent % comms.size()];
    const std::string& child_comm = comms[child % comms.size()];
    out.push_back({false, datagram(connector::event_bits::kFork, seq++, {1, 1, thread, parent})});
    out.push_back({true, exit_record_datagram(seq, thread, parent, 1, parent_comm)});
    out.push_back({false, datagram(connector::event_bits::kExit, seq++, {thread, parent, 0, 0xffffffffu, 1, 1})});
    out.push_back({false, datagram(connector::event_bits::kFork, seq++, {parent, parent, child, child})});
    out.push_back({false, datagram(connector::event_bits::kExec, seq++, {child, child})});
    out.push_back({true, exit_record_datagram(seq, child, child, parent, child_comm)});
    out.push_back({false, datagram(connector::event_bits::kExit, seq++, {child, child, 0, 17, parent, parent})});
  }
  return out;
}

/// The receiver's part: parses one datagram from either socket and pushes what it carries.
template <class Push>
void parse_datagram(const Datagram& d, Push&& push) {
  if (d.taskstats) {
    taskstats::ItemCursor cursor(d.bytes, kTaskstatsFamily);
    taskstats::Item item;
    while (cursor.next(item)) {
      if (item.kind == taskstats::ItemKind::kRecord) push(receiver::PipelineItem(item.record));
    }
  } else {
    connector::MessageCursor cursor(d.bytes);
    connector::Message m;
    while (cursor.next(m)) {
      if (m.kind == connector::MessageKind::kEvent) push(receiver::PipelineItem(m.event));
    }
  }
}

long resident_kib() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::vector<std::string> names(std::size_t groups) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < groups; ++i) out.push_back("prog" + std::to_string(i));
  return out;
}

void pipeline(std::int32_t live, std::size_t groups) {
  FakeInspector inspector;
  inspector.group_names = names(groups);
  inspector.seeded = live;
  aggregator::AggregatorOptions options;
  options.max_groups = groups + 10;
  options.exit_records_expected = true;  // as with taskstats registered
  aggregator::Aggregator aggregator(options, nullptr, inspector);
  aggregator.seed();
  auto ring = receiver::EventRing::create(65536);
  const auto mix = make_mix(live, 20000, inspector.group_names);

  // One core: parse a batch of datagrams into the ring as the receiver does, then drain it into the
  // aggregator as AggregatorWorker does (batches of 256 under its mutex, a tick per batch).
  constexpr std::size_t kBatch = 256;
  std::mutex worker_mutex;
  std::vector<receiver::PipelineItem> batch(kBatch);
  std::uint64_t records = 0;
  const auto run = [&](std::size_t rounds) {
    std::uint64_t items = 0;
    for (std::size_t r = 0; r < rounds; ++r) {
      for (std::size_t i = 0; i < mix.size(); i += kBatch) {
        const std::size_t end = std::min(i + kBatch, mix.size());
        for (std::size_t k = i; k < end; ++k) {
          parse_datagram(mix[k], [&](const receiver::PipelineItem& item) {
            if (!ring->try_push(item)) std::abort();
          });
        }
        std::size_t n;
        while ((n = ring->pop_bulk(batch.data(), kBatch)) > 0) {
          const auto now = Clock::now();
          std::lock_guard lock(worker_mutex);
          for (std::size_t k = 0; k < n; ++k) {
            records += batch[k].index();
            std::visit([&](const auto& item) { aggregator.handle(item); }, batch[k]);
          }
          aggregator.tick(now);
          items += n;
        }
      }
    }
    return items;
  };
  run(2);  // warm up: groups and table slots exist afterwards
  records = 0;
  const std::uint64_t allocations_before = g_allocations.load();
  const auto start = Clock::now();
  const std::uint64_t items = run(20);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::uint64_t allocations = g_allocations.load() - allocations_before;
  aggregator::Snapshot snapshot;
  aggregator.fill_snapshot(snapshot);
  std::printf("pipeline  live=%-6d groups=%-5zu items=%-8llu (events %llu + exit records %llu) %6.2f Mitems/s"
              "  %6.1f ns/item  %.4f allocations/item  exits joined=%llu unmatched=%llu"
              "  (target >= 5 M/s, 0 allocations)\n",
              live, groups, static_cast<unsigned long long>(items), static_cast<unsigned long long>(items - records),
              static_cast<unsigned long long>(records), static_cast<double>(items) / seconds / 1e6,
              seconds * 1e9 / static_cast<double>(items), static_cast<double>(allocations) / static_cast<double>(items),
              static_cast<unsigned long long>(snapshot.exit_join.joined),
              static_cast<unsigned long long>(snapshot.exit_join.exits_without_record +
                                              snapshot.exit_join.records_without_exit + aggregator.waiting_records()));
}

/// The gzip-compressed size of `text` (what /metrics sends to a Prometheus server).
std::size_t gzip_size(const std::string& text) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::vector<Bytef> out(deflateBound(&stream, static_cast<uLong>(text.size())));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  const std::size_t size = stream.total_out;
  deflateEnd(&stream);
  return size;
}

/// The series a Prometheus server with native histograms stores from a protobuf scrape: a histogram sample
/// (every one has its native histogram) is one, everything else as in text.
std::size_t protobuf_series(const std::vector<prometheus::MetricFamily>& families, const metrics::NativeSamples& native) {
  std::size_t series = native.size();
  for (const auto& family : families) {
    if (family.type == prometheus::MetricType::Histogram) continue;
    for (const auto& metric : family.metric) {
      if (family.type == prometheus::MetricType::Summary) {
        series += 2 + metric.summary.quantile.size();
      } else {
        ++series;
      }
    }
  }
  return series;
}

/// The series budget and the scrape cost, for the default and the detailed setting (per_group: [all]):
/// every group's processes fork threads and children that exec and exit, each with its exit record.
void scrape(std::size_t groups, const config::GroupDetails& per_group, const char* setting) {
  FakeInspector inspector;
  inspector.group_names = names(groups);
  inspector.seeded = static_cast<std::int32_t>(groups * 3);
  aggregator::AggregatorOptions options;
  options.max_groups = groups + 10;
  options.exit_records_expected = true;
  aggregator::Aggregator aggregator(options, nullptr, inspector);
  aggregator.seed();
  // Children's pids cover every group, so that every group forks, execs and exits.
  const std::size_t pid_range = groups * ((500 + groups - 1) / groups);
  for (const Datagram& d : make_mix(static_cast<std::int32_t>(groups * 3), std::max<std::size_t>(5000, groups * 5),
                                    inspector.group_names, pid_range)) {
    parse_datagram(d, [&](const receiver::PipelineItem& item) {
      std::visit([&](const auto& value) { aggregator.handle(value); }, item);
    });
  }
  metrics::PipelineStatus status;
  status.taskstats = taskstats::SourceStats{};  // taskstats up: the exit-cost families are exported
  const metrics::BuildInfo build{"bench", "bench", "bench", "bench", "linux", "bench"};
  std::string text, protobuf;
  constexpr int kRounds = 31;
  std::vector<double> totals, copies, text_renders, protobuf_renders;
  metrics::NativeSamples native;
  std::vector<prometheus::MetricFamily> native_families;
  for (int i = 0; i < kRounds; ++i) {
    const auto start = Clock::now();
    aggregator::Snapshot snapshot;
    aggregator.fill_snapshot(snapshot);  // the only part done under the aggregator's lock
    const auto copied = Clock::now();
    text = metrics::render_text(metrics::exporter_families(snapshot, status, build, per_group));
    const auto text_done = Clock::now();
    native.clear();
    native_families = metrics::exporter_families(snapshot, status, build, per_group, &native);
    protobuf = metrics::render_protobuf(native_families, native);
    protobuf_renders.push_back(std::chrono::duration<double>(Clock::now() - text_done).count());
    text_renders.push_back(std::chrono::duration<double>(text_done - copied).count());
    totals.push_back(std::chrono::duration<double>(text_done - start).count());
    copies.push_back(std::chrono::duration<double>(copied - start).count());
  }
  for (auto* sorted : {&totals, &copies, &text_renders, &protobuf_renders}) std::sort(sorted->begin(), sorted->end());
  std::size_t series = 0, group_series = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    const std::string_view line(text.data() + at, (end == std::string::npos ? text.size() : end) - at);
    if (!line.empty() && line[0] != '#') {
      ++series;
      if (line.find("groupname=\"") != std::string_view::npos) ++group_series;
    }
    at = end == std::string::npos ? text.size() : end + 1;
  }
  std::printf("scrape    %-8s groups=%-5zu series=%-6zu per group=%5.2f  per host (no groupname)=%-4zu  bytes=%-8zu"
              " gzip=%-7zu render=%.2f ms min, %.2f median (lock held %.3f ms)  (target < 10 ms at 1000 groups)\n",
              setting, groups, series, static_cast<double>(group_series) / static_cast<double>(groups),
              series - group_series, text.size(), gzip_size(text), totals.front() * 1e3, totals[kRounds / 2] * 1e3,
              copies[kRounds / 2] * 1e3);
  // A native histogram is one series; everything else as in text.
  const std::size_t pb_series = protobuf_series(native_families, native);
  const double text_ns = text_renders[kRounds / 2] * 1e9 / static_cast<double>(series);
  const double protobuf_ns = protobuf_renders[kRounds / 2] * 1e9 / static_cast<double>(pb_series);
  std::printf("protobuf  %-8s groups=%-5zu series=%-6zu native histograms=%-5zu bytes=%-8zu gzip=%-7zu"
              " render=%.2f ms median (text %.2f ms): %.0f ns/series (text %.0f ns/series)  (target: <= text per series)\n",
              setting, groups, pb_series, native.size(), protobuf.size(), gzip_size(protobuf),
              protobuf_renders[kRounds / 2] * 1e3, text_renders[kRounds / 2] * 1e3, protobuf_ns, text_ns);
}

void memory(std::int32_t live, std::size_t groups) {
  const long before = resident_kib();
  FakeInspector inspector;
  inspector.group_names = names(groups);
  inspector.seeded = live;
  aggregator::AggregatorOptions options;
  options.max_groups = groups + 10;
  auto ring = receiver::EventRing::create(65536);  // the default ring_capacity
  aggregator::Aggregator aggregator(options, nullptr, inspector);
  aggregator.seed();
  // Touch the ring's pages as a storm would, with its largest item.
  const receiver::PipelineItem item{taskstats::ExitRecord{}};
  for (std::size_t i = 0; i < ring->capacity(); ++i) (void)ring->try_push(item);
  const long after = resident_kib();
  std::printf("memory    live=%d groups=%zu tracked=%zu ring=%zu x %zu B  process RSS=%.1f MiB (state: %.1f MiB)"
              "  (target < 32 MiB)\n", live, groups, aggregator.tracked_processes(), ring->capacity(),
              sizeof(receiver::PipelineItem), static_cast<double>(after) / 1024, static_cast<double>(after - before) / 1024);
}

void attribution_cost() {
  // Per exec with attribution on: read /proc/<pid>/cgroup, pick the path, classify (cached).
  procfs::ProcReader reader;
  procfs::ProcessInfo info;
  attribution::CgroupCache cache(4096);
  constexpr int kRounds = 20000;
  const auto start = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    (void)reader.read_process(getpid(), true, info);
    (void)cache.classify(attribution::select_cgroup_path(info.cgroup));
  }
  const double with = std::chrono::duration<double>(Clock::now() - start).count() / kRounds;
  const auto start2 = Clock::now();
  for (int i = 0; i < kRounds; ++i) (void)reader.read_process(getpid(), false, info);
  const double without = std::chrono::duration<double>(Clock::now() - start2).count() / kRounds;
  std::printf("attribution  /proc identification per exec: %.1f us without cgroup, %.1f us with cgroup + classification"
              " (+%.1f us)\n", without * 1e6, with * 1e6, (with - without) * 1e6);
}

double identify_cost(const attribution::CgroupScope& scope, bool read_cgroup) {
  procfs::ProcfsInspector inspector;
  aggregator::GroupRegistry groups({.max_groups = 500});
  aggregator::ProcessTable table(16);
  aggregator::ProcessIdentifier identifier(inspector, groups, table, nullptr, read_cgroup);
  identifier.set_scope(scope);
  constexpr int kRounds = 20000;
  const auto start = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    aggregator::Identification id = identifier.read(getpid(), 0, {});
    if (id.read) identifier.name(getpid(), id);
  }
  return std::chrono::duration<double>(Clock::now() - start).count() / kRounds * 1e6;
}

void scope_cost() {
  procfs::ProcReader reader;
  procfs::ProcessInfo info;
  (void)reader.read_process(getpid(), true, info);
  const std::string own = std::string(attribution::select_cgroup_path(info.cgroup));
  std::printf("scope     identification per exec (own cgroup %s): host %.1f us, host reading cgroups %.1f us, "
              "scoped + outside %.1f us, scoped + inside %.1f us\n", own.c_str(),
              identify_cost({}, false), identify_cost({}, true),
              identify_cost(attribution::CgroupScope("/procevents-bench-elsewhere"), false),
              identify_cost(attribution::CgroupScope(own), false));
  // The re-check: walk a cgroup tree's cgroup.procs files, scan a default-sized table (200k).
  aggregator::ProcessTable table(200000);
  for (std::int32_t pid = 1; pid <= 5000; ++pid) table.upsert({pid, 0, 0, 0, 0});
  std::vector<std::int32_t> pids;
  for (const char* root : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    pids.clear();
    const auto start = Clock::now();
    if (!attribution::list_cgroup_tree_pids(root, pids)) continue;
    const double walk = std::chrono::duration<double>(Clock::now() - start).count() * 1e3;
    const auto scan_start = Clock::now();
    std::size_t outside = 0;
    table.for_each([&](const aggregator::ProcessEntry& e) { outside += e.group == aggregator::kOutOfScopeGroup; });
    const double scan = std::chrono::duration<double>(Clock::now() - scan_start).count() * 1e3;
    std::printf("scope     re-check pass: walk of %s (%zu pids) %.2f ms; scan of a 200k table (5k live, %zu out) %.2f ms\n",
                root, pids.size(), walk, outside, scan);
    break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  if (only.empty() || only == "pipeline") {
    for (const std::int32_t live : {1000, 100000}) {
      for (const std::size_t groups : {std::size_t{10}, std::size_t{1000}}) pipeline(live, groups);
    }
  }
  if (only.empty() || only == "scrape") {
    for (const std::size_t groups : {std::size_t{10}, std::size_t{500}, std::size_t{1000}}) {
      scrape(groups, {}, "default");
      scrape(groups, config::GroupDetails::all(), "detailed");
    }
  }
  if (only.empty() || only == "memory") memory(100000, 1000);
  if (only.empty() || only == "attribution") attribution_cost();
  if (only.empty() || only == "scope") scope_cost();
  return 0;
}
