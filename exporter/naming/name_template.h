// A group name template in process-exporter's Go text/template syntax, parsed once at load.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace procevents::naming {

/// Literal text and {{.Variable}} references. Only plain variable actions are supported (with Go's
/// {{- and -}} whitespace trimming); pipelines, functions and other actions are load errors.
struct NameTemplate {
  enum class Kind : std::uint8_t {
    kLiteral,
    kComm,         // {{.Comm}}
    kExeBase,      // {{.ExeBase}}
    kExeFull,      // {{.ExeFull}}
    kUsername,     // {{.Username}}
    kCgroup,       // {{.Cgroup}}: the process's cgroup path
    kCgroups,      // {{.Cgroups}}: process-exporter's list, rendered as Go prints it: "[path]"
    kUnit,         // {{.Unit}}
    kContainerId,  // {{.ContainerID}}
    kPodUid,       // {{.PodUID}}
    kMatch,        // {{.Matches.NAME}}: a named group of the entry's cmdline regexes
    kPid,          // {{.PID}}: one group per process
    kStartTime,    // {{.StartTime}}: one group per process
  };
  struct Part {
    Kind kind = Kind::kLiteral;
    std::string text;  // the literal text, or NAME for kMatch
  };

  std::string source;  // as written
  std::vector<Part> parts;

  /// Parses `text`. On failure returns nullopt and sets `*error`: unterminated or unsupported
  /// actions and unknown variables (a misspelt {{.ExecBase}} is an error here, where Go's template
  /// would silently name every process ""). Never throws except std::bad_alloc.
  static std::optional<NameTemplate> parse(std::string_view text, std::string* error);

  bool has_variables() const;
  /// Whether rendering needs the process's cgroup (Cgroup, Cgroups, Unit, ContainerID, PodUID).
  bool needs_cgroup() const;
};

}  // namespace procevents::naming
