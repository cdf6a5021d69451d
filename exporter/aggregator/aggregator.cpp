#include "aggregator/aggregator.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "attribution/cgroup.h"
#include "naming/group_namer.h"

namespace procevents::aggregator {

using connector::Event;
using connector::EventType;

namespace {
constexpr std::array<double, kRateWindowCount> kRateWindowsSeconds = {60, 300, 900};
constexpr std::string_view kOtherGroup = "other";
constexpr std::string_view kUnknownGroup = "unknown";

double clock_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

EnrichmentFailure failure_of(procfs::ReadError error) {
  switch (error) {
    case procfs::ReadError::kGone: return EnrichmentFailure::kGone;
    case procfs::ReadError::kPermission: return EnrichmentFailure::kPermission;
    default: return EnrichmentFailure::kOther;
  }
}
}  // namespace

// ---- ProcfsInspector -------------------------------------------------------------------------

ProcfsInspector::ProcfsInspector(std::string proc_root)
    : reader_(std::make_unique<procfs::ProcReader>(std::move(proc_root))),
      users_(std::make_unique<procfs::UserNames>()) {
  const long ticks = procfs::ProcReader::clock_ticks_per_second();
  seconds_per_tick_ = ticks > 0 ? 1.0 / static_cast<double>(ticks) : 0;
  // /proc start times count from boot including suspend; kernel event stamps exclude it.
  boot_offset_seconds_ = clock_seconds(CLOCK_BOOTTIME) - clock_seconds(CLOCK_MONOTONIC);
}
ProcfsInspector::~ProcfsInspector() = default;

procfs::ReadError ProcfsInspector::inspect(std::int32_t pid, bool with_cgroup, procfs::ProcessInfo& out) {
  return reader_->read_process(pid, with_cgroup, out);
}

void ProcfsInspector::list_processes(std::vector<std::int32_t>& pids) {
  pids.clear();
  reader_->for_each_pid([&](std::int32_t pid) { pids.push_back(pid); });
}

std::string_view ProcfsInspector::user_name(std::uint32_t uid) { return users_->name_for(uid); }

// ---- Aggregator ------------------------------------------------------------------------------

struct Aggregator::Group {
  std::string name;
  std::array<std::string, kAttributionLabelCount> attribution;
  std::int64_t live = 0;
  GroupCounters counters;
};

Aggregator::Aggregator(AggregatorOptions options, std::shared_ptr<const naming::GroupNamer> namer,
                       ProcessInspector& inspector)
    : options_(std::move(options)),
      namer_(std::move(namer)),
      inspector_(inspector),
      table_(options_.max_processes) {
  // Every attribution label but user comes from the cgroup (the label order is unit, container,
  // pod_uid, user).
  const bool cgroup_labels = std::any_of(options_.attribution.begin(), options_.attribution.end() - 1,
                                         [](bool on) { return on; });
  if (options_.read_cgroup || cgroup_labels) enable_cgroups();
  if (namer_ && namer_->uses_cgroup()) enable_cgroups();
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (options_.attribution[i]) {
      limiters_[i] = std::make_unique<attribution::LabelLimiter>(options_.attribution_limits[i]);
    }
  }
  group_index_.reserve(options_.max_groups * 2 + 8);
  groups_.reserve(options_.max_groups + 2);
  if (namer_) {
    for (const std::string& name : namer_->predeclared_groups()) named_group(name);
  }
}

Aggregator::~Aggregator() = default;

Aggregator::Group* Aggregator::group_at(std::uint32_t index) noexcept {
  return index < groups_.size() ? &groups_[index] : nullptr;
}

template <class Fn>
void Aggregator::count(std::uint32_t group, Fn&& fn) {
  if (Group* g = group_at(group)) fn(g->counters);
}

std::uint32_t Aggregator::group_index(std::string_view name,
                                      const std::array<std::string_view, kAttributionLabelCount>& attribution) {
  // Key: the name and every enabled attribution value, separated by a byte that cannot occur in them.
  key_scratch_.assign(name);
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (!options_.attribution[i]) continue;
    key_scratch_.push_back('\x1f');
    key_scratch_.append(attribution[i]);
  }
  if (auto it = group_index_.find(key_scratch_); it != group_index_.end()) return it->second;

  const bool is_other = name == kOtherGroup;
  if (!is_other && named_groups_ >= options_.max_groups) {
    ++group_overflows_;
    if (other_group_ == kIgnored) {
      other_group_ = group_index(kOtherGroup, {});
    }
    return other_group_;
  }
  const auto index = static_cast<std::uint32_t>(groups_.size());
  Group& group = groups_.emplace_back();
  group.name.assign(name);
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (options_.attribution[i]) group.attribution[i].assign(attribution[i]);
  }
  group.counters.lifetime_buckets.assign(options_.lifetime_bounds.size() + 1, 0);
  group_index_.emplace(key_scratch_, index);
  if (!is_other) ++named_groups_;
  if (is_other && other_group_ == kIgnored) other_group_ = index;
  return index;
}

std::uint32_t Aggregator::named_group(std::string_view name) { return group_index(name, {}); }

std::optional<std::uint32_t> Aggregator::identify(std::int32_t pid, std::uint64_t expected_start_ns,
                                                  std::string_view comm_override) {
  const procfs::ReadError error = inspector_.inspect(pid, options_.read_cgroup, scratch_);
  if (error != procfs::ReadError::kNone) {
    ++enrichment_failures_[static_cast<std::size_t>(failure_of(error))];
    return std::nullopt;
  }
  // A pid read after its process died may already name a newer process.
  const double tick = inspector_.seconds_per_tick();
  if (expected_start_ns != 0 && tick > 0 && scratch_.start_time_ticks != 0) {
    const double started = static_cast<double>(scratch_.start_time_ticks) * tick - inspector_.boot_offset_seconds();
    const double expected = static_cast<double>(expected_start_ns) / 1e9;
    if (started - expected > 1.0) {
      ++enrichment_failures_[static_cast<std::size_t>(EnrichmentFailure::kPidReused)];
      return std::nullopt;
    }
  }
  if (!comm_override.empty()) scratch_.comm.assign(comm_override);

  naming::ProcessIdentity identity;
  identity.comm = scratch_.comm;
  identity.exe = scratch_.exe;
  identity.cmdline = scratch_.cmdline;
  identity.username = inspector_.user_name(scratch_.euid);  // process-exporter's {{.Username}} is the euid
  static const attribution::CgroupIdentity kNoCgroup;
  const attribution::CgroupIdentity* cgroup = &kNoCgroup;
  if (options_.read_cgroup && cgroups_) {
    cgroup = &cgroups_->classify(attribution::select_cgroup_path(scratch_.cgroup));
    identity.cgroup = cgroup->path;
    identity.unit = cgroup->unit;
    identity.container_id = cgroup->container_id;
    identity.pod_uid = cgroup->pod_uid;
  }
  const std::optional<std::string> name = namer_ ? namer_->name_for(identity) : std::optional<std::string>(scratch_.comm);
  if (!name) return kIgnored;

  std::array<std::string_view, kAttributionLabelCount> labels{};
  const std::array<std::string_view, kAttributionLabelCount> raw = {
      cgroup->unit, cgroup->container_id, cgroup->pod_uid, identity.username};
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (limiters_[i]) labels[i] = limiters_[i]->admit(raw[i]);  // valid UTF-8: see classify_cgroup_path, UserNames
  }
  return group_index(*name, labels);
}

void Aggregator::track(std::int32_t pid, std::uint32_t group, std::uint64_t start_ns) {
  if (ProcessEntry* existing = table_.find(pid)) {
    // The pid was reused while we missed the old process's exit: forget the old one.
    if (Group* old = group_at(existing->group)) --old->live;
    table_.erase(pid);
  }
  ProcessEntry evicted;
  if (table_.upsert({pid, group, start_ns}, &evicted)) {
    ++table_evictions_;
    if (Group* old = group_at(evicted.group)) --old->live;
  }
  if (Group* g = group_at(group)) ++g->live;
}

void Aggregator::move(ProcessEntry& entry, std::uint32_t to_group) {
  if (entry.group == to_group) return;
  if (Group* old = group_at(entry.group)) --old->live;
  if (Group* now = group_at(to_group)) ++now->live;
  entry.group = to_group;
}

std::uint32_t Aggregator::group_of(std::int32_t tgid) {
  if (tgid <= 0) return named_group(kUnknownGroup);
  if (const ProcessEntry* entry = table_.find(tgid)) return entry->group;
  const std::optional<std::uint32_t> group = identify(tgid, 0, {});
  if (!group) return named_group(kUnknownGroup);
  track(tgid, *group, 0);
  return *group;
}

void Aggregator::seed() {
  inspector_.list_processes(pid_scratch_);
  for (const std::int32_t pid : pid_scratch_) {
    if (table_.find(pid)) continue;
    if (const std::optional<std::uint32_t> group = identify(pid, 0, {})) track(pid, *group, 0);
  }
}

void Aggregator::resync() {
  ++resyncs_;
  inspector_.list_processes(pid_scratch_);
  std::sort(pid_scratch_.begin(), pid_scratch_.end());
  table_.erase_if([&](const ProcessEntry& entry) {
    if (std::binary_search(pid_scratch_.begin(), pid_scratch_.end(), entry.pid)) return false;
    if (Group* g = group_at(entry.group)) --g->live;
    return true;
  });
  for (const std::int32_t pid : pid_scratch_) {
    if (table_.find(pid)) continue;
    if (const std::optional<std::uint32_t> group = identify(pid, 0, {})) track(pid, *group, 0);
  }
}

void Aggregator::on_fork(const Event& event) {
  ++rate_pending_[static_cast<std::size_t>(RateEvent::kFork)];
  if (event.is_thread()) {
    // For CLONE_THREAD the kernel reports the process's parent as "parent": the creator is tgid.
    count(group_of(event.tgid), [](GroupCounters& c) { ++c.forks_thread; });
    return;
  }
  const std::uint32_t parent = group_of(event.parent_tgid);
  count(parent, [](GroupCounters& c) { ++c.forks_process; });
  track(event.tgid, parent, event.timestamp_ns);  // the child keeps its parent's identity until exec
}

void Aggregator::on_exec(const Event& event) {
  ++rate_pending_[static_cast<std::size_t>(RateEvent::kExec)];
  ProcessEntry* entry = table_.find(event.tgid);
  if (!entry) {
    track(event.tgid, named_group(kUnknownGroup), 0);
    entry = table_.find(event.tgid);
  }
  const std::uint64_t start_ns = entry ? entry->start_ns : 0;
  const std::optional<std::uint32_t> group = identify(event.tgid, start_ns, {});
  // Re-find: identify() may have created groups but never touches the table.
  entry = table_.find(event.tgid);
  std::uint32_t target = group.value_or(entry ? entry->group : named_group(kUnknownGroup));
  if (entry) move(*entry, target);
  count(target, [](GroupCounters& c) { ++c.execs; });
}

void Aggregator::on_comm(const Event& event) {
  const std::uint32_t current = group_of(event.tgid);
  count(current, [](GroupCounters& c) { ++c.comm_changes; });
  if (event.is_thread()) return;  // a thread's name does not name its process
  ProcessEntry* entry = table_.find(event.tgid);
  const std::optional<std::uint32_t> group = identify(event.tgid, entry ? entry->start_ns : 0, event.comm_view());
  entry = table_.find(event.tgid);
  if (group && entry) move(*entry, *group);
}

void Aggregator::on_exit(const Event& event) {
  ++rate_pending_[static_cast<std::size_t>(RateEvent::kExit)];
  if (event.is_thread()) return;  // thread exits are not process exits

  ProcessEntry entry;
  std::uint32_t group;
  if (table_.erase(event.tgid, &entry)) {
    group = entry.group;
    if (Group* g = group_at(group)) --g->live;
  } else {
    // Never seen (started before a loss, or evicted): a zombie may still be readable, else ask the parent.
    entry = {};
    const std::optional<std::uint32_t> identified = identify(event.tgid, 0, {});
    if (identified) {
      group = *identified;
    } else if (event.parent_tgid > 0 && table_.find(event.parent_tgid)) {
      group = table_.find(event.parent_tgid)->group;
    } else {
      group = named_group(kUnknownGroup);
    }
  }

  const connector::ExitStatus status = connector::decode_exit_status(event.exit_code);
  count(group, [&](GroupCounters& c) {
    if (status.kind == connector::ExitStatus::Kind::kSignaled) {
      ++c.exits[static_cast<std::size_t>(ExitOutcome::kSignal)];
      if (status.signal > 0 && status.signal <= static_cast<int>(kMaxSignal)) ++c.signal_exits[status.signal];
    } else {
      ++c.exits[static_cast<std::size_t>(status.code == 0 ? ExitOutcome::kSuccess : ExitOutcome::kFailure)];
    }
    if (entry.start_ns != 0 && event.timestamp_ns >= entry.start_ns) {
      const double seconds = static_cast<double>(event.timestamp_ns - entry.start_ns) / 1e9;
      const auto& bounds = options_.lifetime_bounds;
      const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin();
      ++c.lifetime_buckets[static_cast<std::size_t>(bucket)];
      c.lifetime_sum_seconds += seconds;
      ++c.lifetime_count;
    }
  });
}

void Aggregator::handle(const Event& event) {
  ++events_processed_;
  switch (event.type) {
    case EventType::kFork: on_fork(event); break;
    case EventType::kExec: on_exec(event); break;
    case EventType::kComm: on_comm(event); break;
    case EventType::kExit: on_exit(event); break;
    case EventType::kUid:
      count(group_of(event.tgid), [&](GroupCounters& c) {
        ++(event.effective_id == 0 ? c.uid_changes_to_root : c.uid_changes_to_nonroot);
      });
      break;
    case EventType::kGid: count(group_of(event.tgid), [](GroupCounters& c) { ++c.gid_changes; }); break;
    case EventType::kSid: count(group_of(event.tgid), [](GroupCounters& c) { ++c.sid_changes; }); break;
    case EventType::kPtrace:
      count(group_of(event.tgid), [&](GroupCounters& c) {
        ++(event.is_ptrace_attach() ? c.ptrace_attach : c.ptrace_detach);
      });
      break;
    case EventType::kCoredump: count(group_of(event.tgid), [](GroupCounters& c) { ++c.coredumps; }); break;
    case EventType::kAck:
    case EventType::kUnknown: break;
  }
}

void Aggregator::tick(std::chrono::steady_clock::time_point now) {
  if (!last_tick_) {
    last_tick_ = now;
    return;
  }
  const double elapsed = std::chrono::duration<double>(now - *last_tick_).count();
  if (elapsed < std::chrono::duration<double>(kRateTick).count() * 0.9) return;
  last_tick_ = now;
  for (std::size_t e = 0; e < kRateEventCount; ++e) {
    const double rate = static_cast<double>(rate_pending_[e]) / elapsed;
    rate_pending_[e] = 0;
    for (std::size_t w = 0; w < kRateWindowCount; ++w) {
      // Like the load average: weight of the old value decays with the window's time constant.
      const double keep = std::exp(-elapsed / kRateWindowsSeconds[w]);
      rates_[e][w] = rates_[e][w] * keep + rate * (1 - keep);
    }
  }
}

void Aggregator::enable_cgroups() {
  options_.read_cgroup = true;
  if (!cgroups_) cgroups_ = std::make_unique<attribution::CgroupCache>(4096);
}

void Aggregator::set_namer(std::shared_ptr<const naming::GroupNamer> namer,
                           const std::vector<std::string>& predeclared) {
  namer_ = std::move(namer);
  if (namer_ && namer_->uses_cgroup()) enable_cgroups();
  for (const std::string& name : predeclared) named_group(name);
}

void Aggregator::fill_snapshot(Snapshot& out) const {
  out.lifetime_bounds = options_.lifetime_bounds;
  out.attribution_enabled = options_.attribution;
  out.groups.resize(groups_.size());
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    out.groups[i].name = groups_[i].name;
    out.groups[i].attribution = groups_[i].attribution;
    out.groups[i].live_processes = groups_[i].live;
    out.groups[i].counters = groups_[i].counters;
  }
  out.rates = rates_;
  out.events_processed = events_processed_;
  out.tracked_processes = table_.size();
  out.table_evictions = table_evictions_;
  out.group_overflows = group_overflows_;
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    out.attribution_overflows[i] = limiters_[i] ? limiters_[i]->overflows() : 0;
  }
  out.enrichment_failures = enrichment_failures_;
  out.resyncs = resyncs_;
}

}  // namespace procevents::aggregator
