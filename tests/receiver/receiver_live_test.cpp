// Real-kernel tests of the receiver thread: a subscribed connector and a registered taskstats
// source feeding a ring, as in the exporter.
//
// They need root (CAP_NET_ADMIN, the initial user, network and PID namespaces) and a kernel with
// CONFIG_PROC_EVENTS and CONFIG_TASKSTATS. Elsewhere they say why and skip, except when the CI
// environment variable is set: CI runs as root, so there a skip is a failure. Other processes on
// the machine produce events too, so every check filters by the pids we spawned or holds whatever
// else arrives, and every wait has a deadline.
#include <catch2/catch.hpp>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "receiver/receiver.h"
#include "support/child_process.h"

using namespace procevents;
using namespace std::chrono_literals;
using connector::Event;
using connector::EventType;
using receiver::EventRing;
using receiver::PipelineItem;
using receiver::Receiver;
using taskstats::ExitRecord;

namespace {

constexpr auto kDeadline = 5s;
constexpr int kChildren = 20;

struct Sources {
  std::unique_ptr<connector::ProcConnector> connector;
  std::unique_ptr<taskstats::TaskstatsSource> taskstats;
};

/// Opens and subscribes a connector and registers a taskstats source, or explains why this
/// environment cannot and returns nothing: WARN and skip normally, FAIL when $CI is set.
std::optional<Sources> open_live(const connector::ConnectorOptions& options = {},
                                 std::uint32_t mask = connector::event_bits::kAll) {
  std::string reason;
  Sources sources;
  SysError error;
  if (geteuid() != 0) {
    reason = "needs root/CAP_NET_ADMIN (euid " + std::to_string(geteuid()) + ")";
  } else if (sources.connector = connector::ProcConnector::open(options, &error); !sources.connector) {
    reason = "cannot open the process events connector (" + error.message() + ")";
  } else if (const connector::SubscribeResult result = sources.connector->subscribe(mask); result.error || !result.acknowledged) {
    reason = "subscription failed or was never acknowledged: not in the host namespaces?";
  } else if (sources.taskstats = taskstats::TaskstatsSource::open({}, &error); !sources.taskstats) {
    reason = "cannot open the taskstats source (" + error.message() + "): a kernel without CONFIG_TASKSTATS?";
  }
  if (reason.empty()) return sources;
  if (std::getenv("CI")) FAIL("live receiver test cannot run under CI: " << reason);
  WARN("skipped: " << reason);
  return std::nullopt;
}

/// Forks `count` children that exec /bin/true and reaps them; returns their pids.
std::vector<pid_t> run_true(int count) {
  std::vector<pid_t> pids;
  for (int i = 0; i < count; ++i) {
    pids.push_back(testing::run([] { ::execl("/bin/true", "true", static_cast<char*>(nullptr)); }));
  }
  return pids;
}

/// Everything popped from the ring, in order, and the counts by kind.
struct Drained {
  std::vector<PipelineItem> items;
  std::uint64_t events = 0;
  std::uint64_t records = 0;
  void pop_all(EventRing& ring) {
    PipelineItem item;
    while (ring.try_pop(item)) {
      (std::holds_alternative<Event>(item) ? events : records) += 1;
      items.push_back(item);
    }
  }
  /// Waits up to 10 ms for data, pops everything, and returns what this call popped.
  std::vector<PipelineItem> wait_and_pop(EventRing& ring) {
    ring.wait_for_data(10ms);
    const std::size_t from = items.size();
    pop_all(ring);
    return {items.begin() + static_cast<std::ptrdiff_t>(from), items.end()};
  }
};

std::uint64_t passed_events(const connector::ConnectorStats& stats) {
  std::uint64_t total = 0;
  for (const std::uint64_t count : stats.events_by_type) total += count;
  return total - stats.filtered_out;
}

std::uint64_t records(const taskstats::SourceStats& stats) { return stats.task_records + stats.thread_group_records; }

/// Retries `consistent` until it holds (the three counters are published one after the other, so
/// a read may straddle two publications) or the deadline passes.
template <class Fn>
bool eventually(Fn&& consistent) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    if (consistent()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

}  // namespace

TEST_CASE("every child's exit record reaches the ring before its connector exit event", "[receiver][live]") {
  auto sources = open_live();
  if (!sources) return;
  auto ring = EventRing::create(1 << 16);
  REQUIRE(ring);
  // The policy is a plain function (called on the receiver thread): it counts into an atomic.
  static std::atomic<int> urgent_calls{0};
  urgent_calls = 0;
  Receiver receiver(std::move(sources->connector), std::move(sources->taskstats), *ring,
                    receiver::WakePolicy{.is_urgent = [](const Event& event) noexcept {
                      return ++urgent_calls, event.type == EventType::kExec;
                    }});
  CHECK(receiver.subscribed());
  CHECK(receiver.taskstats_active());
  CHECK(receiver.receive_buffer_bytes() > 0);
  CHECK(receiver.taskstats_receive_buffer_bytes() > 0);

  const std::vector<pid_t> children = run_true(kChildren);

  // Index of each child's task exit record and connector exit event in ring order.
  Drained drained;
  std::map<pid_t, std::size_t> record_at, exit_at;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (exit_at.size() < children.size() && std::chrono::steady_clock::now() < deadline) {
    std::size_t at = drained.items.size();
    for (const PipelineItem& item : drained.wait_and_pop(*ring)) {
      for (const pid_t child : children) {
        if (const auto* record = std::get_if<ExitRecord>(&item);
            record && record->scope == taskstats::RecordScope::kTask && record->pid == child) {
          record_at.emplace(child, at);
        }
        if (const auto* event = std::get_if<Event>(&item); event && event->type == EventType::kExit && event->pid == child) {
          exit_at.emplace(child, at);
        }
      }
      ++at;
    }
  }
  for (const pid_t child : children) {
    CAPTURE(child);
    REQUIRE(record_at.count(child) == 1);
    REQUIRE(exit_at.count(child) == 1);
    CHECK(record_at[child] < exit_at[child]);
  }

  // The counters account for every item: what the sources passed is what the ring delivered.
  const bool accounted = eventually([&] {
    drained.pop_all(*ring);
    const connector::ConnectorStats connector = receiver.connector_stats();
    const taskstats::SourceStats taskstats = receiver.taskstats_stats();
    const receiver::ReceiverStats own = receiver.stats();
    drained.pop_all(*ring);
    return passed_events(connector) == drained.events + own.ring_full_drops &&
           records(taskstats) == drained.records + own.ring_full_record_drops;
  });
  CHECK(accounted);
  const connector::ConnectorStats connector = receiver.connector_stats();
  const receiver::ReceiverStats own = receiver.stats();
  CHECK(connector.events_by_type[static_cast<std::size_t>(EventType::kExit)] >= kChildren);
  CHECK(connector.events_by_type[static_cast<std::size_t>(EventType::kExec)] >= kChildren);
  CHECK(receiver.taskstats_stats().task_records >= kChildren);
  CHECK(own.ring_full_drops == 0);
  CHECK(own.ring_full_record_drops == 0);
  CHECK(own.connector_receive_errors == 0);
  CHECK(own.taskstats_receive_errors == 0);
  CHECK(own.last_event_monotonic_ns > 0);
  CHECK(own.last_event_monotonic_ns <= steady_ns());
  CHECK(receiver.events_received() >= 3u * kChildren);  // fork, exec and exit at least
  CHECK(urgent_calls > 0);
}

TEST_CASE("exit records wake the receiver themselves when the connector delivers no exits", "[receiver][live]") {
  // With every exit subscribed, the connector's exit event (queued after the task's record) drains
  // the records, and the records alone do not wake the receiver. Without exits nothing would.
  auto sources = open_live({}, connector::event_bits::kExec);
  if (!sources) return;
  auto ring = EventRing::create(1 << 16);
  REQUIRE(ring);
  // The children exit well after their execs, and after the receiver's last timed wake-up (its batch
  // delay), so nothing but their records can make it read them.
  Receiver receiver(std::move(sources->connector), std::move(sources->taskstats), *ring,
                    receiver::WakePolicy{.is_urgent = nullptr, .batch_delay = 20ms});
  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i) {
    children.push_back(testing::spawn([] { ::execl("/bin/sleep", "sleep", "0.3", static_cast<char*>(nullptr)); }));
  }
  std::set<pid_t> recorded;
  Drained drained;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (recorded.size() < children.size() && std::chrono::steady_clock::now() < deadline) {
    for (const PipelineItem& item : drained.wait_and_pop(*ring)) {
      const auto* record = std::get_if<ExitRecord>(&item);
      if (record && record->scope == taskstats::RecordScope::kTask) recorded.insert(record->pid);
    }
    std::erase_if(recorded, [&](pid_t pid) { return std::find(children.begin(), children.end(), pid) == children.end(); });
  }
  for (const pid_t child : children) testing::reap(child);
  CHECK(recorded.size() == children.size());
}

TEST_CASE("a full ring counts drops of both kinds and never blocks the receiver", "[receiver][live]") {
  auto sources = open_live();
  if (!sources) return;
  auto ring = EventRing::create(2);  // nobody pops: full after two items
  REQUIRE(ring);
  Receiver receiver(std::move(sources->connector), std::move(sources->taskstats), *ring);

  const std::uint64_t exits_before = receiver.connector_stats().events_by_type[static_cast<std::size_t>(EventType::kExit)];
  const std::uint64_t records_before = records(receiver.taskstats_stats());
  (void)run_true(kChildren);

  // The receiver keeps reading although nothing leaves the ring: every child's exit is counted.
  CHECK(eventually([&] {
    return receiver.connector_stats().events_by_type[static_cast<std::size_t>(EventType::kExit)] >=
               exits_before + kChildren &&
           records(receiver.taskstats_stats()) >= records_before + kChildren;
  }));
  CHECK(ring->size() == 2);
  const receiver::ReceiverStats own = receiver.stats();
  CHECK(own.ring_full_drops > 0);
  CHECK(own.ring_full_record_drops > 0);
  CHECK(receiver.loss_signals() >= own.ring_full_drops + own.ring_full_record_drops);
  // Everything past the first two items was dropped and counted.
  CHECK(eventually([&] {
    const std::uint64_t passed = passed_events(receiver.connector_stats()) + records(receiver.taskstats_stats());
    const receiver::ReceiverStats now = receiver.stats();
    return passed == now.ring_full_drops + now.ring_full_record_drops + ring->size();
  }));
}

TEST_CASE("the destructor stops the receiver thread promptly", "[receiver][live]") {
  auto sources = open_live();
  if (!sources) return;
  auto ring = EventRing::create(1024);
  REQUIRE(ring);
  auto receiver = std::make_unique<Receiver>(std::move(sources->connector), std::move(sources->taskstats), *ring);
  std::this_thread::sleep_for(50ms);  // idle in its wait, which has no time limit
  const auto start = std::chrono::steady_clock::now();
  receiver.reset();
  const auto took = std::chrono::steady_clock::now() - start;
  CAPTURE(std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
  CHECK(took < 1s);  // the stop eventfd ends the wait at once; then unsubscribe and deregister
}

TEST_CASE("a consumer waiting without a time limit is woken for events nobody marks urgent", "[receiver][live]") {
  // At rest neither thread has a timer: the receiver must wake the consumer itself, within its
  // batch delay, or the events would wait in the ring for ever.
  auto sources = open_live();
  if (!sources) return;
  auto ring = EventRing::create(1 << 16);
  REQUIRE(ring);
  Receiver receiver(std::move(sources->connector), std::move(sources->taskstats), *ring,
                    receiver::WakePolicy{.is_urgent = nullptr, .batch_delay = 50ms});
  std::atomic<std::uint64_t> popped{0};
  std::jthread consumer([&](std::stop_token stop) {
    const std::stop_callback wake(stop, [&] { ring->wake_consumer(); });
    std::vector<PipelineItem> batch(256);
    while (!stop.stop_requested()) {
      popped += ring->pop_bulk(batch.data(), batch.size());
      ring->wait_for_data(EventRing::kForever, stop);
    }
  });
  const std::uint64_t before = popped;
  (void)run_true(3);
  // Each child makes at least a fork, an exec, an exit and an exit record.
  CHECK(eventually([&] { return popped >= before + 12; }));
}

TEST_CASE("after an overrun the receiver makes every CPU emit an event, so the loss is counted at once",
          "[receiver][live]") {
  connector::ConnectorOptions options;
  options.receive_buffer_bytes = 4096;  // a few events: a thread storm overruns it
  auto sources = open_live(options);
  if (!sources) return;
  REQUIRE(sources->connector->loss_exact());
  auto ring = EventRing::create(1 << 16);
  REQUIRE(ring);
  Receiver receiver(std::move(sources->connector), nullptr, *ring);

  // Four storming threads, so that the receiver competes for a CPU: one alone, on a quiet 2-CPU
  // host, is sometimes read as fast as it writes and overruns nothing.
  const pid_t storm = testing::run([] {
    std::vector<std::thread> stormers;
    for (int s = 0; s < 4; ++s) {
      stormers.emplace_back([] {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        for (int i = 0; i < 2000; ++i) {
          pthread_t t;
          if (pthread_create(&t, &attr, [](void*) -> void* { return nullptr; }, nullptr) != 0) _exit(1);
          pthread_join(t, nullptr);
        }
      });
    }
    for (std::thread& stormer : stormers) stormer.join();
  });
  REQUIRE(eventually([&] { return receiver.connector_stats().enobufs >= 1; }));

  // The sweep's threads are ours: their exits, one per CPU we may run on, prove every CPU spoke.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
  std::set<std::uint32_t> wanted, reached;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) wanted.insert(static_cast<std::uint32_t>(cpu));
  }
  Drained drained;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (reached != wanted && std::chrono::steady_clock::now() < deadline) {
    for (const PipelineItem& item : drained.wait_and_pop(*ring)) {
      const auto* event = std::get_if<Event>(&item);
      if (event && event->type == EventType::kExit && event->tgid == getpid() && event->is_thread()) {
        reached.insert(event->cpu);
      }
    }
  }
  CAPTURE(storm, receiver.connector_stats().enobufs, receiver.connector_stats().lost_events);
  CHECK(reached == wanted);
  CHECK(receiver.connector_stats().lost_events > 0);
}
