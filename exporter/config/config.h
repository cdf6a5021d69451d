// The exporter's configuration file (`--config.file`): process-exporter's `process_names` plus
// our own keys. Plain data and loaders; yaml-cpp stays inside this layer.
//
//   process_names:                  # first matching entry wins (process-exporter compatible)
//     - name: "{{.Comm}}"           # default "{{.ExeBase}}"
//       comm: [bash]                # OR within a list; comm, exe and cmdline must all match
//       exe: [/usr/bin/python3]     # argv[0]: basename compare unless the entry has a '/'
//       cmdline: ['--config\s+(?P<Cfg>\S+)']   # every regex must match; named captures -> .Matches
//   max_groups: 500                 # beyond it new groups are counted into "other"
//   unmatched: other                # or "ignore"
//   lifetime_buckets: [0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400]
//   ring_capacity: 65536            # power of two
//   max_processes: 131072
//   receive_buffer_bytes: 8388608
//   events: [fork, exec, exit, comm, uid, gid, sid, ptrace, coredump]
//   attribution: []                 # unit, container, pod_uid, user
//   attribution_limits: {unit: 200, container: 200, pod_uid: 200, user: 100}
//   read_cgroup: false
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "config/web_config.h"

namespace procevents::config {

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 = not tied to a position
  int column = 0;  // 1-based
  std::string message;
  std::string to_string() const;  // "file:line:col: message"
};

/// A parsed Go-template-style name: literal text and {{.Variable}} references.
struct NameTemplate {
  struct Part {
    bool variable = false;
    std::string text;  // literal text, or a variable: Comm, ExeBase, ExeFull, Username, Cgroup, Unit,
                       // ContainerID, PodUID, or Matches.<capture>
  };
  std::vector<Part> parts;
  bool has_variables() const;
};

struct CmdlineRegex {
  std::string pattern;                                  // as written (RE2 syntax)
  std::regex regex;                                     // translated to ECMAScript
  std::vector<std::pair<std::string, std::size_t>> captures;  // named group -> submatch index
};

struct Matcher {
  NameTemplate name;
  std::vector<std::string> comm;
  std::vector<std::string> exe;
  std::vector<CmdlineRegex> cmdline;
  int line = 0;
};

enum class Unmatched { kOther, kIgnore };

struct Config {
  std::string source = "(built-in defaults)";
  std::vector<Matcher> process_names;  // empty: one group per comm
  std::size_t max_groups = 500;
  Unmatched unmatched = Unmatched::kOther;
  std::vector<double> lifetime_buckets = {0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400};
  std::size_t ring_capacity = 65536;
  std::size_t max_processes = 131072;
  std::size_t receive_buffer_bytes = 8 << 20;
  std::vector<std::string> events = {"fork", "exec", "exit", "comm", "uid", "gid", "sid", "ptrace", "coredump"};
  std::uint32_t event_mask = 0;  // derived from `events`
  std::vector<std::string> attribution;
  std::map<std::string, std::size_t> attribution_limits = {{"unit", 200}, {"container", 200}, {"pod_uid", 200}, {"user", 100}};
  bool read_cgroup = false;
};

struct LoadResult {
  std::optional<Config> config;  // set when errors is empty
  std::vector<ConfigError> errors;
  std::vector<std::string> warnings;  // unknown keys etc.: logged once, then ignored
};

Config default_config();
LoadResult load_config_file(const std::string& path);
/// `name` stands for the file name in errors. Safe on arbitrary bytes.
LoadResult load_config_string(std::string_view text, const std::string& name);

/// A readable summary of the active configuration (for the landing page).
std::string describe(const Config& config);

struct WebConfigResult {
  std::optional<WebConfig> config;
  std::vector<ConfigError> errors;
  std::vector<std::string> warnings;
};
WebConfigResult load_web_config_file(const std::string& path);
WebConfigResult load_web_config_string(std::string_view text, const std::string& name);

}  // namespace procevents::config
