// Process identity -> group name, by the process_names entries (rules.h) and their templates.
#pragma once

#include <cstddef>
#include <cstdint>
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
  std::span<const std::string> cmdline;  // argv; empty for kernel threads and zombies
  std::string_view username;
  std::string_view cgroup, unit, container_id, pod_uid;
  std::int32_t pid = 0;                  // {{.PID}}
  std::int64_t start_time_ns = 0;        // {{.StartTime}}: wall clock, ns since the epoch; 0 = unknown
};

/// Names processes. Immutable after construction; name_for() may be called from any number of
/// threads at once. Naming happens once per exec or rename, not per event.
///
/// Matching is process-exporter's: entries are tried in order and the first whose selectors all
/// match wins. comm: exact compare with any entry. exe: compared with argv[0] (what the process was
/// started as, not /proc/<pid>/exe): an entry with a '/' with argv[0] itself, one without with its
/// base name (Go's filepath.Base); a process without argv matches no exe entry. cmdline: every
/// regex must match argv joined by single spaces (its first kMaxCmdlineBytes, common/cmdline_limit.h);
/// named groups fill {{.Matches.NAME}}, a later regex overriding an earlier one with the same name.
/// Rendering: {{.ExeBase}} is filepath.Base(argv[0]), {{.ExeFull}} argv[0], both comm without argv;
/// {{.Cgroups}} is "[" cgroup "]" as process-exporter prints its list; {{.StartTime}} as Go prints a
/// time.Time in the local zone ("2026-12-01 22:46:13.12 +0000 UTC").
class GroupNamer {
 public:
  /// `rules` is typically a whole config::Config, which extends NamingRules.
  explicit GroupNamer(const NamingRules& rules);

  /// The group the first matching entry names; nullopt when no entry matches (what happens to
  /// such a process is unmatched() and unmatched_join_parent(): the caller knows its parent). The name is valid
  /// UTF-8 (bytes that are not become U+FFFD: Prometheus refuses a scrape over one bad label value)
  /// and never empty: an empty rendering falls back to comm, then to "unknown". Never throws; on an
  /// internal failure (memory) the name is "unknown".
  std::optional<std::string> name_for(const ProcessIdentity& identity) const;

  /// Where a process no entry matches goes: group "other", or nowhere.
  Unmatched unmatched() const { return unmatched_; }
  /// Whether a process no entry matches joins its parent's group when the parent is in one that an
  /// entry gave it (or, through its own parent, this rule): process-exporter's -children.
  bool unmatched_join_parent() const { return unmatched_join_parent_; }

  /// Whether names need the process's cgroup ({{.Unit}} etc.): enrichment must then read it.
  bool uses_cgroup() const { return uses_cgroup_; }
  /// Whether names depend on the program (`exe:` selectors, {{.ExeBase}}, {{.ExeFull}}): for a
  /// process named from its exit record, whose argv is gone, argv[0] is then the binary's path.
  bool uses_exe() const { return uses_exe_; }
  /// Whether names need the command line's text: `cmdline:` patterns other than the catch-alls
  /// '.+' and '.*' (those ask only whether there is one: a process whose argv is not read is then
  /// passed as its program alone, a kernel thread with none), and argv[0] for exe selectors,
  /// {{.ExeBase}} and {{.ExeFull}}.
  bool uses_cmdline() const { return uses_cmdline_; }
  /// Whether names need the user ({{.Username}}).
  bool uses_username() const { return uses_username_; }

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
  bool unmatched_join_parent_ = true;
  bool uses_cgroup_ = false;
  bool uses_exe_ = false;
  bool uses_cmdline_ = false;
  bool uses_username_ = false;
};

}  // namespace procevents::naming
