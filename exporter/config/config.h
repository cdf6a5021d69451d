// The exporter's configuration file (`--config.file`): process-exporter's `process_names`, so that
// an existing process-exporter file loads unchanged, plus our own keys. Plain data and loaders;
// yaml-cpp stays inside this layer; names and cmdline regexes are parsed with naming/'s parsers.
// Loading happens at start-up and on SIGHUP, on one thread.
//
//   process_names:                  # first matching entry wins
//     - name: "{{.Comm}}"           # default "{{.ExeBase}}"; see naming/name_template.h
//       comm: [bash]                # any of; exact compare with comm (15 characters at most)
//       exe: [/usr/bin/python3]     # any of; with a '/': full path, without: basename (exe or argv[0])
//       cmdline: ['--config\s+(?P<Cfg>\S+)']   # all must match the args joined by spaces; Go regexp syntax (RE2); see naming/cmdline_regex.h
//   max_groups: 500                 # beyond it new groups are counted into "other" (1..1000000)
//   unmatched: other                # or "ignore"
//   children: true                  # unmatched children of a grouped process join its group (process-exporter's -children)
//   lifetime_buckets: [0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400]   # seconds, strictly increasing
//   peak_memory_buckets: [4194304, 16777216, 67108864, 268435456, 1073741824, 4294967296]   # bytes
//   taskstats: true                 # join the kernel's taskstats exit records (names and costs)
//   ring_capacity: 65536            # power of two, 16..16777216 (below 1024 only for tests: warned)
//   max_processes: 200000           # process table bound (16..4194304)
//   receive_buffer_bytes: 8388608   # 0 = kernel default (0..1 GiB)
//   events: [fork, exec, exit, comm, uid, gid, sid, ptrace, coredump]   # also nonzero_exit
//   attribution: []                 # any of unit, container_id, pod_uid, user
//   attribution_limits: {unit: 200, container_id: 200, pod_uid: 200, user: 100}
//   read_cgroup: false              # forced on by attribution or cgroup template variables
//   audit_interval_seconds: 30      # self-audit of the process table against /proc; 0 = off (0..86400)
//   per_group: []                   # families per group instead of per host (group_detail.h), or [all]
//   scope: host                     # or own_pod, or a cgroup path ("/system.slice/nginx.service"): count only its subtree
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"
#include "config/group_detail.h"
#include "naming/rules.h"

namespace procevents::config {

inline constexpr std::array<double, 9> kDefaultLifetimeBuckets = {0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400};
inline constexpr std::array<double, 6> kDefaultPeakMemoryBuckets = {4 << 20, 16 << 20, 64 << 20, 256 << 20, 1 << 30,
                                                                     4.0 * (1 << 30)};

/// `scope:` values besides a cgroup path.
inline constexpr std::string_view kScopeHost = "host";
inline constexpr std::string_view kScopeOwnPod = "own_pod";

/// Every attribution label's default cap (attribution/labels.h).
std::map<std::string, std::size_t> default_attribution_limits();

/// The grouping rules (process_names, unmatched: naming/rules.h) and everything else the file sets.
struct Config : naming::NamingRules {
  std::string source = "(built-in defaults)";  // the file it came from
  std::size_t max_groups = 500;
  std::vector<double> lifetime_buckets{kDefaultLifetimeBuckets.begin(), kDefaultLifetimeBuckets.end()};
  std::vector<double> peak_memory_buckets{kDefaultPeakMemoryBuckets.begin(), kDefaultPeakMemoryBuckets.end()};
  bool taskstats = true;
  std::size_t ring_capacity = 65536;
  std::size_t max_processes = 200000;
  std::size_t receive_buffer_bytes = 8 << 20;
  std::vector<std::string> events = {"fork", "exec", "exit", "comm", "uid", "gid", "sid", "ptrace", "coredump"};
  std::uint32_t event_mask = 0;  // connector event bits of `events`; set by the loaders
  std::vector<std::string> attribution;  // subset of unit, container_id, pod_uid, user, in file order
  std::map<std::string, std::size_t> attribution_limits = default_attribution_limits();
  bool read_cgroup = false;
  std::size_t audit_interval_seconds = 30;
  GroupDetails per_group;  // default: none, the series budget of the README
  std::string scope = std::string(kScopeHost);  // kScopeHost, kScopeOwnPod or a cgroup path ("/...")
};

struct LoadResult {
  std::optional<Config> config;       // set exactly when errors is empty
  std::vector<ConfigError> errors;    // every problem found, in file order as far as possible
  std::vector<std::string> warnings;  // "file:line:col: ..." for unknown or ignored keys: log each once
};

/// The configuration used without --config.file: no file is read.
Config default_config();

/// Loads `path`. Errors: unreadable or empty file, not UTF-8, YAML syntax, top level not a
/// mapping, wrong types, out-of-range numbers, bad regexes or templates, entries without any
/// selector, unknown events or attribution labels. Never throws except std::bad_alloc.
LoadResult load_config_file(const std::string& path);
/// As load_config_file() on `text`; `name` stands for the file in messages. Safe on arbitrary bytes.
LoadResult load_config_string(std::string_view text, const std::string& name);

/// A readable summary of the active configuration (for the landing page).
std::string describe(const Config& config);

}  // namespace procevents::config
