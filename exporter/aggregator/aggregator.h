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
// Exit records (taskstats) arrive before the connector exit of the same task (see Receiver) and
// wait in a small table keyed by task id until that exit claims them. They give every finished
// task's cost to its process's group, and they name the processes /proc could not: an exec whose
// process is gone when /proc is read is held (not counted) until the process's exit, then counted
// under the name its exit record gives, or under the inherited group if no record came.
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

#include "aggregator/exe_paths.h"
#include "aggregator/process_table.h"
#include "aggregator/snapshot.h"
#include "config/config.h"
#include "connector/event.h"
#include "procfs/procfs.h"
#include "procfs/procfs_inspector.h"
#include "taskstats/exit_record.h"

namespace procevents::naming {
class GroupNamer;
struct ProcessIdentity;
}
namespace procevents::attribution {
class CgroupCache;
struct CgroupIdentity;
class LabelLimiter;
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
  bool read_cgroup = false;  // forced on by attribution or by a namer that needs cgroup data
  /// Time between self-audits of the table against /proc (audit()); 0 turns them off.
  std::chrono::milliseconds audit_interval{30000};
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
  /// Self-audit, at most once per `audit_interval` (call it when the ring is drained): compares the
  /// table with /proc's process list. A difference seen again by the next pass, at least
  /// kAuditConfirmDelay later (the events that explain a fresh one have arrived by then), is drift:
  /// counted by kind and corrected entry by entry (gone entries dropped, untracked processes
  /// identified). A tracked pid /proc does not list is gone only if the pid no longer exists (hidepid
  /// hides live processes). Untracked ones are not drift while the table is full (evictions).
  void audit(std::chrono::steady_clock::time_point now);
  static constexpr std::chrono::seconds kAuditConfirmDelay{1};
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

  std::size_t tracked_processes() const noexcept { return table_.size(); }
  std::size_t waiting_records() const noexcept { return records_.size(); }
  static constexpr std::chrono::seconds kRateTick{5};

 private:
  /// Reads /proc/<pid>/cgroup on every identification from now on (attribution or names need it).
  void enable_cgroups();
  /// Tells the inspector what to read besides stat: only what names and labels use. The one place
  /// that decides it (called at construction and by set_namer()).
  void configure_reads();
  struct Group;
  static constexpr std::uint32_t kIgnored = 0xffffffffu;  // process matched nothing and `unmatched: ignore`

  Group* group_at(std::uint32_t index) noexcept;
  std::uint32_t group_index(std::string_view name, const std::array<std::string_view, kAttributionLabelCount>& attribution);
  std::uint32_t named_group(std::string_view name);  // with empty attribution
  /// Reads /proc for `pid` and returns its group; nullopt when /proc could not tell (failure counted).
  std::optional<std::uint32_t> identify(std::int32_t pid, std::uint64_t expected_start_ns,
                                        std::string_view comm_override);
  /// Identifies and tracks (start unknown) those of `pids` the table lacks, leaving out exiting
  /// ones; then unmatched children join their parents' groups (children()).
  void adopt_live(const std::vector<std::int32_t>& pids);
  /// Whether unmatched children of a process in `group` join it: a group an entry named (not
  /// "other", "unknown" or ignored).
  bool names_its_children(std::uint32_t group) const noexcept;
  /// Whether a child no entry names joins `group`, its parent's (children(), a named group).
  bool adopts_children(std::uint32_t group) const noexcept;
  /// The group of tracked process `pid`; kIgnored when the table lacks it.
  std::uint32_t tracked_group(std::int32_t pid) const noexcept;
  /// The parent of the process just read into scratch_ (late in an exit the kernel reports none:
  /// then the one its fork event named).
  std::int32_t parent_of(std::int32_t pid) const noexcept;
  /// Where a process no entry names goes: its parent's group (children()), nowhere (`unmatched:
  /// ignore`), or else nullopt with `name` set to "other".
  std::optional<std::uint32_t> place_unmatched(std::uint32_t parent_group, std::optional<std::string>& name);
  /// The group of a live process, identifying (and tracking, start unknown) it if the table lacks it.
  std::uint32_t group_of(std::int32_t tgid);
  /// identify() without counting a failure; `failure` says why it returned nullopt.
  std::optional<std::uint32_t> try_identify(std::int32_t pid, std::uint64_t expected_start_ns,
                                            std::string_view comm_override, EnrichmentFailure& failure);
  /// The group an exit record names, with the attribution of the group the process inherited.
  /// `read_parent`: look up the parent's current cgroup (false when the caller already did).
  std::uint32_t group_from_record(const taskstats::ExitRecord& record, std::uint32_t inherited, bool read_parent = true);
  /// The attribution labels of group `base` (none when it is no group), with cgroup-sourced labels
  /// from `cgroup` and the user label from `user` where given, admitted through the limiters.
  /// Views into label_scratch_: valid until the next call.
  std::array<std::string_view, kAttributionLabelCount> attribution_labels(std::uint32_t base,
                                                                          const attribution::CgroupIdentity* cgroup,
                                                                          std::optional<std::string_view> user);
  static void set_cgroup(naming::ProcessIdentity& identity, const attribution::CgroupIdentity& cgroup);
  /// Charges an exit record no connector exit claimed to its process's group (named from the record
  /// when the process is unknown) and counts it as seen by taskstats only.
  void settle_unclaimed(const taskstats::ExitRecord& record);
  /// Drops the oldest held exec from the FIFO, counting it in its current group if still held.
  void release_oldest_held();
  /// A command line of argv[0] alone (the exe path, else comm), for processes whose argv is gone.
  std::span<const std::string> program_only_cmdline(std::string_view exe, std::string_view comm);
  /// Removes and returns the exit record waiting for task `pid`, if any.
  std::optional<taskstats::ExitRecord> take_record(std::int32_t pid);
  /// Adds a finished task's cost to `group`; a process's own record also observes its peak memory.
  void charge(std::uint32_t group, const taskstats::ExitRecord& record);
  /// Counts the execs `entry` held, in the group `record` names (or, without one, the inherited
  /// group as a /proc failure); returns that group.
  std::uint32_t settle_execs(const ProcessEntry& entry, const taskstats::ExitRecord* record);
  /// Holds `entry`'s exec until its exit record or the join timeout.
  void hold_exec(ProcessEntry& entry);
  /// Settles held execs and unclaimed records whose time is up (at most once a second).
  void expire_waiting(std::uint64_t now_ns);
  void track(std::int32_t pid, std::uint32_t group, std::uint64_t start_ns, std::int32_t ppid = 0);
  /// Accounts for a tracked process found gone without its exit event (resync, audit): its group's
  /// live count and any exec it held. The caller removes it from the table.
  void forget_gone(const ProcessEntry& entry);
  /// `group` with its cgroup-sourced attribution labels taken from `cgroup` (the others kept).
  std::uint32_t with_cgroup_labels(std::uint32_t group, const attribution::CgroupIdentity& cgroup);
  /// The current cgroup of process `ppid` (null when unreadable, exiting, or cgroups are not read);
  /// its table entry is re-labelled with it.
  const attribution::CgroupIdentity* parent_cgroup(std::int32_t ppid);
  void move(ProcessEntry& entry, std::uint32_t to_group);
  void on_fork(const connector::Event& event);
  void on_exec(const connector::Event& event);
  void on_comm(const connector::Event& event);
  void on_exit(const connector::Event& event);
  template <class Fn>
  void count(std::uint32_t group, Fn&& fn);

  AggregatorOptions options_;
  std::shared_ptr<const naming::GroupNamer> namer_;
  procfs::ProcessInspector& inspector_;
  ProcessTable table_;
  std::vector<Group> groups_;
  std::unordered_map<std::string, std::uint32_t> group_index_;
  std::uint32_t other_group_ = kIgnored;
  std::size_t named_groups_ = 0;  // groups counted against max_groups
  std::unique_ptr<attribution::CgroupCache> cgroups_;
  std::array<std::unique_ptr<attribution::LabelLimiter>, kAttributionLabelCount> limiters_;

  procfs::ReadParts read_parts_;
  procfs::ProcessInfo scratch_;  // reused between inspections: keeps string capacity
  std::vector<std::int32_t> pid_scratch_;
  std::vector<std::int32_t> orphan_scratch_;  // adopt_live(): unmatched processes whose parent may name them
  std::string key_scratch_;
  std::array<std::string, kAttributionLabelCount> label_scratch_;  // inherited labels, reused
  std::string cgroup_scratch_;
  std::string name_scratch_;
  std::vector<std::string> cmdline_scratch_;

  // Exit records waiting for their connector exit, and execs waiting for their exit record.
  struct WaitingRecord {
    std::int32_t pid = 0;  // task id
    std::uint64_t arrived_ns = 0;
    taskstats::ExitRecord record;
  };
  PidTable<WaitingRecord> records_;
  struct HeldExec {
    std::int32_t tgid = 0;
    std::uint64_t start_ns = 0;
    std::uint64_t deadline_ns = 0;
  };
  std::vector<HeldExec> held_execs_;  // FIFO ring of held_capacity_ slots
  std::size_t held_head_ = 0, held_count_ = 0;
  std::uint64_t now_ns_ = 0;          // steady clock at the last tick()
  std::uint64_t last_expiry_ns_ = 0;
  ExitJoinStats exit_join_;
  std::uint64_t exit_records_processed_ = 0;
  ExePaths exe_paths_{4096};

  // Rates: events since the last tick, EWMA per window.
  std::array<std::uint64_t, kRateEventCount> rate_pending_{};
  std::array<std::array<double, kRateWindowCount>, kRateEventCount> rates_{};
  std::optional<std::chrono::steady_clock::time_point> last_tick_;
  std::chrono::steady_clock::time_point last_counted_;  // the last tick() that found new events pending
  std::uint64_t pending_seen_ = 0;                       // the pending events it found

  std::uint64_t events_processed_ = 0;
  std::uint64_t table_evictions_ = 0;
  std::uint64_t group_overflows_ = 0;
  std::uint64_t resyncs_ = 0;
  TableAuditStats audit_;
  std::chrono::steady_clock::time_point next_audit_{};
  std::uint64_t evictions_at_last_audit_ = 0;
  // Differences the last audit pass saw, sorted: drift if the next pass sees them again.
  std::vector<std::int32_t> suspect_stale_, suspect_missing_, audit_scratch_;  // pids
  std::array<std::uint64_t, kEnrichmentFailureCount> enrichment_failures_{};
};

}  // namespace procevents::aggregator
