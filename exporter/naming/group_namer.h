// Process identity -> group name, by the process_names entries (rules.h) and their templates.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "naming/rules.h"

namespace procevents::naming {

/// What enrichment knows about a process when it is named; any field may be empty.
struct ProcessIdentity {
  std::string_view comm;                 // /proc/<pid>/comm or the COMM event (15 bytes at most)
  std::string_view exe;                  // readlink /proc/<pid>/exe: the full path
  std::span<const std::string> cmdline;  // argv; empty for kernel threads and zombies
  std::string_view username;
  std::string_view cgroup, unit, container_id, pod_uid;
};

/// Names processes. Immutable after construction; name_for() may be called from any number of
/// threads at once. Naming happens once per exec or rename, not per event.
///
/// Matching follows process-exporter: entries are tried in order and the first whose selectors
/// all match wins. comm: exact compare with any entry. exe: an entry with a '/' is compared with
/// the full exe path and with argv[0]; without, with the basename of either. cmdline: every regex
/// must match argv joined by single spaces (its first kMaxCmdlineBytes, common/cmdline_limit.h);
/// named groups fill {{.Matches.NAME}}, a later regex overriding an earlier one with the same name.
/// Rendering: {{.ExeBase}} is the basename of exe, else of argv[0], else comm; {{.ExeFull}} is exe,
/// else argv[0], else comm; {{.Cgroups}} is "[" cgroup "]" as process-exporter prints its list.
class GroupNamer {
 public:
  /// `rules` is typically a whole config::Config, which extends NamingRules.
  explicit GroupNamer(const NamingRules& rules);

  /// The group of this process; nullopt when no entry matches and `unmatched: ignore`, "other"
  /// when none matches and `unmatched: other`. The name is valid UTF-8 (bytes that are not become
  /// U+FFFD: Prometheus refuses a scrape over one bad label value) and never empty: an empty
  /// rendering falls back to comm, then to "unknown". Never throws; on an internal failure
  /// (memory) the name is "unknown".
  std::optional<std::string> name_for(const ProcessIdentity& identity) const;

  /// Whether names need the process's cgroup ({{.Unit}} etc.): enrichment must then read it.
  bool uses_cgroup() const { return uses_cgroup_; }
  /// Whether names depend on the executable (`exe:` selectors, {{.ExeBase}}, {{.ExeFull}}).
  bool uses_exe() const { return uses_exe_; }

  /// Names of the entries whose name has no template variables, in order, without duplicates:
  /// these groups are known in advance and exported with zeros from the start.
  std::vector<std::string> predeclared_groups() const;

 private:
  struct Source {  // where one {{.Matches.NAME}} comes from
    std::size_t regex = 0;
    std::size_t group = 0;
  };
  struct Rule {
    Matcher matcher;
    std::vector<Source> sources;     // one per Matches part of the name, in order
    std::vector<bool> wants_groups;  // per cmdline regex: whether the name uses its groups
  };
  struct Scratch;

  std::string render(const Rule& rule, const ProcessIdentity& identity, const Scratch& scratch) const;

  std::vector<Rule> rules_;
  Unmatched unmatched_ = Unmatched::kOther;
  bool uses_cgroup_ = false;
  bool uses_exe_ = false;
};

}  // namespace procevents::naming
