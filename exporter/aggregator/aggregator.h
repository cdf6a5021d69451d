// Turns process events into per-group counters, live-process gauges, lifetime histograms and rates.
//
// Single writer: one thread calls handle()/tick()/seed()/resync(); fill_snapshot() must not run
// concurrently with them (AggregatorWorker serialises both with one mutex).
//
// Model: a process is a thread-group leader (pid == tgid). The table tracks live processes with
// the kernel fork timestamp; lifetime = exit timestamp - fork timestamp, both from the kernel.
// Processes found at start-up (seed) or after a loss (resync) have no known start and count in
// the live gauges only. A process belongs to the group its identity (comm, exe, cmdline, ...)
// names at exec or rename; a forked child inherits its parent's group until it execs.
//
// Exit records (taskstats) give every finished task's cost to its process's group and name the
// processes /proc could not (see ExitJoin).
//
// The rooms, each owning its state: Aggregator routes events and owns the process table
// (process_table.h); GroupRegistry the groups and their counters; ProcessIdentifier the /proc reads
// and naming; ExitJoin the exit records and held execs; EventRates the EWMA rates; TableAudit the
// self-audit. Only the Aggregator changes the table; the others read it or move an entry it hands
// them between groups.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "aggregator/event_rates.h"
#include "aggregator/exit_join.h"
#include "aggregator/group_registry.h"
#include "aggregator/process_identifier.h"
#include "aggregator/process_table.h"
#include "aggregator/scope_watch.h"
#include "aggregator/snapshot.h"
#include "aggregator/table_audit.h"
#include "aggregator/usage_ledger.h"
#include "config/config.h"
#include "connector/event.h"
#include "procfs/procfs.h"
#include "procfs/procfs_inspector.h"
#include "taskstats/exit_record.h"

namespace procevents::naming {
class GroupNamer;
}

namespace procevents::aggregator {

struct AggregatorOptions {
  std::size_t max_processes = 200000;  // config.max_processes
  std::size_t max_groups = 500;
  std::vector<double> lifetime_bounds{config::kDefaultLifetimeBuckets.begin(), config::kDefaultLifetimeBuckets.end()};
  std::vector<double> peak_rss_bounds{config::kDefaultPeakMemoryBuckets.begin(), config::kDefaultPeakMemoryBuckets.end()};
  /// Exit records will arrive for connector exits (taskstats is registered and exits are
  /// subscribed): held execs wait for them and missing ones are counted.
  bool exit_records_expected = false;
  /// How long an exec of a vanished process waits for its exit, and an exit record for its
  /// connector exit, before the fallback.
  std::chrono::milliseconds join_timeout{3000};
  /// Exit records waiting for their connector exit. The receiver drains taskstats ahead of the
  /// connector, so under a backlog as many records wait as exits sit in the connector's socket
  /// buffer (~10k for 16 MiB); past this bound one of them is settled as unmatched.
  std::size_t max_waiting_records = 16384;
  std::array<bool, kAttributionLabelCount> attribution{};  // by attribution::kLabels row
  std::array<std::size_t, kAttributionLabelCount> attribution_limits = [] {
    std::array<std::size_t, kAttributionLabelCount> limits{};
    for (std::size_t i = 0; i < kAttributionLabelCount; ++i) limits[i] = attribution::kLabels[i].default_limit;
    return limits;
  }();
  attribution::KubeletDirectories kubelet;  // --path.pod-logs, --path.container-logs
  bool read_cgroup = false;  // also on for cgroup attribution labels or names (ProcessIdentifier::set_namer)
  /// Time between self-audits of the table against /proc (audit()); 0 turns them off.
  std::chrono::milliseconds audit_interval{30000};
  /// Only processes in this cgroup subtree are counted (config `scope`); by default the whole host.
  attribution::CgroupScope scope;
  /// The scope's cgroup directory (attribution::scope_directory), re-checked for processes moved
  /// in or out every scope_recheck_interval (see ScopeWatch); empty: no re-check.
  std::string scope_directory;
  std::chrono::milliseconds scope_recheck_interval{5000};
  /// What a process first seen alive is read for besides stat (the live families' usage counters):
  /// storage needs io, the context switches status.
  procfs::UsageParts first_sight_parts;
};

class Aggregator {
 public:
  Aggregator(AggregatorOptions options, std::shared_ptr<const naming::GroupNamer> namer,
             procfs::ProcessInspector& inspector);
  ~Aggregator();
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;

  /// Fills the table from the inspector's process list (no lifetimes, no counters).
  void seed();
  /// After lost events: adds live processes the table misses and drops those that are gone.
  void resync();
  /// Self-audit of the table against /proc (see TableAudit), at most once per `audit_interval`,
  /// and the scope's re-check (see ScopeWatch); call it when the ring is drained.
  void audit(std::chrono::steady_clock::time_point now);
  static constexpr std::chrono::seconds kAuditConfirmDelay = TableAudit::kConfirmDelay;
  void handle(const connector::Event& event);
  void handle(const taskstats::ExitRecord& record);
  /// Events this aggregator must see promptly because it reads /proc for them (the receiver asks).
  static bool is_urgent(const connector::Event& event) noexcept {
    return event.type == connector::EventType::kExec || event.type == connector::EventType::kComm;
  }
  /// Advances the EWMA rates (at most once per kRateTick; a longer gap is caught up exactly, so
  /// nothing needs to call this at rest: a scrape does) and settles what waited too long. Call it
  /// after each batch of events and before each snapshot.
  void tick(std::chrono::steady_clock::time_point now);
  /// When tick() or audit() must next run although no event arrives: the next self-audit (every
  /// audit_interval), and once a second while held execs or unclaimed exit records wait (their join
  /// timeout); nullopt when nothing is due.
  std::optional<std::chrono::steady_clock::time_point> next_tick_due() const;
  /// Swaps the naming rules (SIGHUP). Existing groups and their counters persist; processes move
  /// to new groups at their next exec or rename. `predeclared` groups are created with zeros.
  void set_namer(std::shared_ptr<const naming::GroupNamer> namer, const std::vector<std::string>& predeclared);

  void fill_snapshot(Snapshot& out) const;

  /// The live processes tracked (pid, fork time, group) and the groups they are counted in.
  const ProcessTable& processes() const noexcept { return table_; }
  const GroupRegistry& groups() const noexcept { return groups_; }
  std::size_t tracked_processes() const noexcept { return table_.size(); }
  std::size_t waiting_records() const noexcept { return join_.waiting_count(); }
  static constexpr std::chrono::seconds kRateTick = EventRates::kTick;

 private:
  /// Reads /proc for `pid` (see ProcessIdentifier), re-labelling its parent when it read the
  /// parent's cgroup; the failure is not counted.
  Identification identify_uncounted(std::int32_t pid, std::uint64_t expected_start_ns,
                                    std::string_view comm_override = {});
  /// identify_uncounted(), counting a failure.
  Identification identify(std::int32_t pid, std::uint64_t expected_start_ns, std::string_view comm_override = {});
  /// Identifies and tracks (start unknown) those of `pids` the table lacks, leaving out exiting
  /// ones; then unmatched children join their parents' groups.
  void adopt_live(const std::vector<std::int32_t>& pids);
  /// Where a process goes that /proc, its record and its parent cannot place: "unknown", or with a
  /// scope nowhere.
  GroupId unplaced();
  /// The group of a live process, identifying (and tracking, start unknown) it if the table lacks it.
  GroupId group_of(std::int32_t tgid);
  /// The group of a process whose exit is the first we hear of it (started before a loss, or
  /// evicted): a zombie may still be readable, else its exit record names it, else its parent.
  GroupId group_of_unseen(const connector::Event& exit, const std::optional<taskstats::ExitRecord>& record);
  /// Tracks `pid` in `group`; returns its entry (null for pid 0). Its usage counts from `seen` (what
  /// it had used when first seen alive, less `exited_tasks`), or from 0 for a process forked while we run.
  ProcessEntry* track(std::int32_t pid, GroupId group, std::uint64_t start_ns, std::int32_t ppid = 0,
                      const procfs::UsageVector* seen = nullptr, const procfs::UsageVector* exited_tasks = nullptr);
  /// Tracks `pid`, first seen alive with identification `id`: its usage counts from now.
  ProcessEntry* track_seen(std::int32_t pid, const Identification& id);
  /// Before a process moves to another group after a /proc read: its usage so far stays behind.
  void move_after_read(ProcessEntry& entry, GroupId to, const Identification& id);
  /// Accounts for a tracked process found gone without its exit event (resync, audit): its group's
  /// live count and any exec it held. The caller removes it from the table.
  void forget_gone(const ProcessEntry& entry);
  /// Moves those of `pids` that crossed the scope's border in or out (ScopeWatch), tracking new ones.
  void recheck_scope(const std::vector<std::int32_t>& pids);
  /// Rates count the processes in the scope only, like every process family.
  void count_rate(RateEvent event, GroupId group) noexcept {
    if (group != kOutOfScopeGroup) rates_.count(event);
  }
  void on_fork(const connector::Event& event);
  void on_exec(const connector::Event& event);
  void on_comm(const connector::Event& event);
  void on_exit(const connector::Event& event);
  void count_exit(GroupId group, const connector::Event& event, std::uint64_t start_ns);
  /// Process `pid` exited (charged `charged`, in `group`) and is reaped by `parent_pid`: what its
  /// teardown cost beyond its records, as the parent's stat shows, goes to `group` (UsageLedger).
  void charge_teardown(std::int32_t pid, std::int32_t parent_pid, const UsageLedger::Cpu& charged, GroupId group);

  AggregatorOptions options_;
  procfs::ProcessInspector& inspector_;
  ProcessTable table_;
  UsageLedger usage_;  // per process beside table_: both hold every tracked process
  GroupRegistry groups_;
  ProcessIdentifier identifier_;
  ExitJoin join_;
  EventRates rates_;
  TableAudit audit_;
  ScopeWatch scope_watch_;
  std::vector<std::int32_t> pid_scratch_;
  std::vector<std::int32_t> orphan_scratch_;  // adopt_live(): unmatched processes whose parent may name them
  std::uint64_t events_processed_ = 0;
  std::uint64_t table_evictions_ = 0;
  std::uint64_t resyncs_ = 0;
  std::int64_t teardown_cpu_us_ = 0;  // CPU charged from parents' stat beyond the exit records (net)
};

}  // namespace procevents::aggregator
