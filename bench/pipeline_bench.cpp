// Benchmarks that need no kernel: prints figures, asserts nothing.
//
//   pipeline   synthetic datagrams -> parse -> ring -> aggregate, on one core, for
//              {1k, 100k} live processes x {10, 1000} groups: events/s, ns/event, allocations/event
//   scrape     /metrics render for 1000 groups: bytes, time, gzip size
//   memory     resident memory with 100k tracked processes and 1000 groups
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "aggregator/aggregator.h"
#include "attribution/cgroup.h"
#include "procfs/procfs.h"
#include "connector/parser.h"
#include "connector/wire.h"
#include "metrics/exposition.h"
#include "ring/spsc_ring.h"

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

class FakeInspector final : public aggregator::ProcessInspector {
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

/// A repeating mix per cycle: a thread of a live process starts and ends, a child is forked,
/// execs and exits (5 events, 1 exec). Children reuse a small pid range so the table stays steady.
std::vector<std::vector<std::byte>> make_mix(std::int32_t live, std::size_t cycles) {
  std::vector<std::vector<std::byte>> out;
  std::uint32_t seq = 0;
  for (std::size_t i = 0; i < cycles; ++i) {
    const auto parent = static_cast<std::uint32_t>(1 + (i * 7919) % static_cast<std::size_t>(live));
    const auto thread = static_cast<std::uint32_t>(live + 1000 + i % 500);
    const auto child = static_cast<std::uint32_t>(live + 2000 + i % 500);
    out.push_back(datagram(connector::event_bits::kFork, seq++, {1, 1, thread, parent}));
    out.push_back(datagram(connector::event_bits::kExit, seq++, {thread, parent, 0, 0xffffffffu, 1, 1}));
    out.push_back(datagram(connector::event_bits::kFork, seq++, {parent, parent, child, child}));
    out.push_back(datagram(connector::event_bits::kExec, seq++, {child, child}));
    out.push_back(datagram(connector::event_bits::kExit, seq++, {child, child, 0, 17, parent, parent}));
  }
  return out;
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
  aggregator::Aggregator aggregator(options, nullptr, inspector);
  aggregator.seed();
  auto ring = ring::SpscRing<connector::Event>::create(65536);
  const auto mix = make_mix(live, 20000);

  // One core: parse a batch into the ring, then drain it into the aggregator, as the two threads do.
  constexpr std::size_t kBatch = 256;
  connector::Event batch[kBatch];
  const auto run = [&](std::size_t rounds) {
    std::uint64_t events = 0;
    for (std::size_t r = 0; r < rounds; ++r) {
      for (std::size_t i = 0; i < mix.size(); i += kBatch) {
        const std::size_t end = std::min(i + kBatch, mix.size());
        for (std::size_t k = i; k < end; ++k) {
          connector::MessageCursor cursor(mix[k]);
          connector::Message m;
          while (cursor.next(m)) {
            if (m.kind == connector::MessageKind::kEvent && !ring->try_push(m.event)) std::abort();
          }
        }
        std::size_t n;
        while ((n = ring->pop_bulk(batch, kBatch)) > 0) {
          for (std::size_t k = 0; k < n; ++k) aggregator.handle(batch[k]);
          events += n;
        }
      }
    }
    return events;
  };
  run(2);  // warm up: groups and table slots exist afterwards
  const std::uint64_t allocations_before = g_allocations.load();
  const auto start = Clock::now();
  const std::uint64_t events = run(20);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::uint64_t allocations = g_allocations.load() - allocations_before;
  std::printf("pipeline  live=%-6d groups=%-5zu events=%-8llu %6.2f Mevents/s  %6.1f ns/event  %.4f allocations/event"
              "  (target >= 5 Mevents/s, 0 allocations)\n",
              live, groups, static_cast<unsigned long long>(events), static_cast<double>(events) / seconds / 1e6,
              seconds * 1e9 / static_cast<double>(events), static_cast<double>(allocations) / static_cast<double>(events));
}

void scrape(std::size_t groups) {
  FakeInspector inspector;
  inspector.group_names = names(groups);
  inspector.seeded = static_cast<std::int32_t>(groups * 3);
  aggregator::AggregatorOptions options;
  options.max_groups = groups + 10;
  aggregator::Aggregator aggregator(options, nullptr, inspector);
  aggregator.seed();
  for (const auto& bytes : make_mix(static_cast<std::int32_t>(groups * 3), 5000)) {
    connector::MessageCursor cursor(bytes);
    connector::Message m;
    while (cursor.next(m)) aggregator.handle(m.event);
  }
  metrics::PipelineStatus status;
  const metrics::BuildInfo build{"bench", "bench", "bench"};
  std::string text;
  constexpr int kRounds = 50;
  double copy_seconds = 0, build_seconds = 0;
  const auto start = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    const auto copy_start = Clock::now();
    aggregator::Snapshot snapshot;
    aggregator.fill_snapshot(snapshot);  // the only part done under the aggregator's lock
    copy_seconds += std::chrono::duration<double>(Clock::now() - copy_start).count();
    const auto build_start = Clock::now();
    auto families = metrics::exporter_families(snapshot, status, build);
    build_seconds += std::chrono::duration<double>(Clock::now() - build_start).count();
    text = metrics::render_text(families);
  }
  const double per_scrape = std::chrono::duration<double>(Clock::now() - start).count() / kRounds;
  uLongf compressed_size = compressBound(static_cast<uLong>(text.size()));
  std::vector<Bytef> compressed(compressed_size);
  compress2(compressed.data(), &compressed_size, reinterpret_cast<const Bytef*>(text.data()),
            static_cast<uLong>(text.size()), Z_DEFAULT_COMPRESSION);
  std::printf("scrape    groups=%zu bytes=%zu total=%.2f ms (lock held %.3f ms, families %.2f ms)  deflate=%lu bytes"
              "  (target < 10 ms)\n",
              groups, text.size(), per_scrape * 1e3, copy_seconds / kRounds * 1e3, build_seconds / kRounds * 1e3,
              static_cast<unsigned long>(compressed_size));
}

void memory(std::int32_t live, std::size_t groups) {
  const long before = resident_kib();
  FakeInspector inspector;
  inspector.group_names = names(groups);
  inspector.seeded = live;
  aggregator::AggregatorOptions options;
  options.max_groups = groups + 10;
  auto ring = ring::SpscRing<connector::Event>::create(65536);
  aggregator::Aggregator aggregator(options, nullptr, inspector);
  aggregator.seed();
  // Touch the ring's pages as a storm would.
  connector::Event e;
  for (std::size_t i = 0; i < ring->capacity(); ++i) (void)ring->try_push(e);
  const long after = resident_kib();
  std::printf("memory    live=%d groups=%zu tracked=%zu  process RSS=%.1f MiB (state: %.1f MiB)  (target < 32 MiB)\n", live,
              groups, aggregator.tracked_processes(), static_cast<double>(after) / 1024,
              static_cast<double>(after - before) / 1024);
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

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  if (only.empty() || only == "pipeline") {
    for (const std::int32_t live : {1000, 100000}) {
      for (const std::size_t groups : {std::size_t{10}, std::size_t{1000}}) pipeline(live, groups);
    }
  }
  if (only.empty() || only == "scrape") scrape(1000);
  if (only.empty() || only == "memory") memory(100000, 1000);
  if (only.empty() || only == "attribution") attribution_cost();
  return 0;
}
