// The grouping rules: process-exporter's `process_names` entries and what happens to a process none
// of them matches. Plain data; config/ loads it from YAML, GroupNamer (group_namer.h) applies it.
#pragma once

#include <string>
#include <vector>

#include "naming/cmdline_regex.h"
#include "naming/name_template.h"

namespace procevents::naming {

/// One `process_names` entry. A process matches when every selector that is given matches.
struct Matcher {
  NameTemplate name;                  // the group name
  std::vector<std::string> comm;      // any of; empty = not checked
  std::vector<std::string> exe;       // any of; empty = not checked
  std::vector<CmdlineRegex> cmdline;  // all of; empty = not checked
  int line = 0;                       // where the entry starts in the file; 0 for the built-in one
};

/// The built-in process_names: one entry named "{{.Comm}}" with `cmdline: ['.+']`, so it matches
/// every process with a command line (one group per comm) and leaves kernel threads, whose comm
/// changes with their work (kworker/u8:0-events_unbound), to `unmatched`. The usual
/// process-exporter configuration. Used when a file has no process_names key.
std::vector<Matcher> default_process_names();

enum class Unmatched { kOther, kIgnore };

/// Everything GroupNamer is built from. config::Config extends it with the other settings.
struct NamingRules {
  std::vector<Matcher> process_names = default_process_names();  // an explicit [] matches nothing
  Unmatched unmatched = Unmatched::kOther;
  bool children = true;  // process-exporter's -children, on by default there too
};

}  // namespace procevents::naming
