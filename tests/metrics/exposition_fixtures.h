// Inputs for whole-exposition tests: every counter of the snapshot and the pipeline status holds a
// value of its own, so a family that reads the wrong field shows up as a changed line.
#pragma once

#include <string>

#include "metrics/exposition.h"

namespace procevents::testing {

/// Distinct values for every field of a group: base + a small offset per field.
inline aggregator::GroupSnapshot full_group(const std::string& name, std::uint64_t base) {
  aggregator::GroupSnapshot g;
  g.name = name;
  g.attribution = {"unit-" + name, "", "", "user-" + name};
  g.live_processes = static_cast<std::int64_t>(base + 1);
  auto& c = g.counters;
  c.forks_process = base + 2;
  c.forks_thread = base + 3;
  c.execs = base + 4;
  c.exits = {base + 5, base + 6, base + 7};
  c.signal_exits[9] = base + 8;
  c.signal_exits[11] = base + 9;
  c.signal_exits[64] = base + 10;
  c.coredumps = base + 11;
  c.comm_changes = base + 12;
  c.uid_changes_to_root = base + 13;
  c.uid_changes_to_nonroot = base + 14;
  c.gid_changes = base + 15;
  c.sid_changes = base + 16;
  c.ptrace_attach = base + 17;
  c.ptrace_detach = base + 18;
  c.lifetime.buckets = {base + 19, 0, 1, 0, 2};
  c.lifetime.count = base + 22;
  c.lifetime.sum = 1234.5 + static_cast<double>(base);
  c.cpu_user_us = base * 1000 + 20;
  c.cpu_system_us = base * 1000 + 21;
  c.storage_read_bytes = base + 23;
  c.storage_write_bytes = base + 24;
  c.voluntary_switches = base + 25;
  c.involuntary_switches = base + 26;
  c.cpu_delay_ns = base * 1000000 + 27;
  c.blkio_delay_ns = base * 1000000 + 28;
  c.peak_rss.buckets = {base + 29, 1, 0};
  c.peak_rss.count = base + 30;
  c.peak_rss.sum = 5e6 + static_cast<double>(base);
  // The native buckets hold as many samples as the classic ones: lifetimes over 30 doublings (wider than
  // kMaxBuckets at the initial schema, so it reduces), one of them 0; peak memory in whole pages.
  c.lifetime.native.observe(0);
  for (std::uint64_t i = 1; i < c.lifetime.count; ++i) c.lifetime.native.observe(1e-4 * double(1u << (i % 30)) * (1 + 0.01 * double(i)));
  for (std::uint64_t i = 0; i < c.peak_rss.count; ++i) c.peak_rss.native.observe(4096.0 * double(1 + i % 7) * double(base));
  return g;
}

inline aggregator::Snapshot full_snapshot(bool attribution) {
  aggregator::Snapshot s;
  s.lifetime_bounds = {0.01, 1, 60, 3600};
  s.peak_rss_bounds = {1e6, 1e8};
  if (attribution) s.attribution_enabled = {true, false, false, true};
  s.groups.push_back(full_group("busy", 100));
  s.groups.push_back(full_group("other", 200));
  aggregator::GroupSnapshot idle;  // only a live process: most of its series do not exist yet
  idle.name = "idle";
  idle.live_processes = 1;
  s.groups.push_back(idle);
  for (std::size_t e = 0; e < aggregator::kRateEventCount; ++e) {
    for (std::size_t w = 0; w < aggregator::kRateWindowCount; ++w) s.rates[e][w] = 0.25 + double(e * 10 + w);
  }
  s.events_processed = 301;
  s.exit_records_processed = 302;
  s.tracked_processes = 303;
  s.table_evictions = 304;
  s.group_overflows = 305;
  s.attribution_overflows = {306, 307, 308, 309};
  s.enrichment_failures = {310, 311, 312, 313};
  s.resyncs = 314;
  s.audit.audits = 315;
  s.audit.drift = {316, 317};
  s.audit.corrected = 318;
  s.exit_join = {.joined = 319, .exits_without_record = 320, .records_without_exit = 321,
                 .named_from_record = 322, .pending_execs = 323};
  return s;
}

inline metrics::PipelineStatus full_status(bool taskstats) {
  metrics::PipelineStatus status;
  auto& c = status.connector;
  c.datagrams = 400;
  c.enobufs = 401;
  c.truncated_datagrams = 402;
  c.foreign_datagrams = 403;
  for (std::size_t t = 0; t < connector::kEventTypeCount; ++t) c.events_by_type[t] = 410 + t;
  c.filtered_out = 430;
  c.netlink_overruns = 431;
  c.lost_events = 432;
  c.netlink_errors = 433;
  for (std::size_t r = 0; r < connector::kMalformedReasonCount; ++r) c.malformed[r] = 440 + r;
  if (taskstats) {
    taskstats::SourceStats ts;
    ts.datagrams = 500;
    ts.enobufs = 501;
    ts.truncated_datagrams = 502;
    ts.foreign_datagrams = 503;
    ts.task_records = 504;
    ts.thread_group_records = 505;
    ts.netlink_overruns = 506;
    ts.netlink_errors = 507;
    for (std::size_t r = 0; r < taskstats::kMalformedReasonCount; ++r) ts.malformed[r] = 510 + r;
    status.taskstats = ts;
  }
  status.receiver = {.ring_full_drops = 600, .ring_full_record_drops = 601, .connector_receive_errors = 602,
                     .taskstats_receive_errors = 603, .last_event_monotonic_ns = 604};
  status.ring_capacity = 65536;
  status.ring_used = 605;
  status.ring_high_watermark = 606;
  status.kernel_forks = 607;
  status.config_reloads = {{"config", false, 1764000000}, {"web_config", true, 1764000100}};
  status.connector_up = true;
  status.kernel_filter_active = true;
  status.receive_buffer_bytes = 608;
  status.taskstats_receive_buffer_bytes = 609;
  return status;
}

}  // namespace procevents::testing
