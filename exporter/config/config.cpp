#include "config/config.h"

#include "attribution/labels.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "config/yaml_support.h"
#include "connector/event.h"

namespace procevents::config {

namespace {

using detail::Diagnostics;
using detail::Entry;
using naming::CmdlineRegex;
using naming::Matcher;
using naming::NameTemplate;
using naming::Unmatched;

constexpr std::size_t kMaxCommLength = 15;  // TASK_COMM_LEN - 1
constexpr std::size_t kMaxBuckets = 100;     // each bucket is one series per group

bool is_attribution_name(std::string_view name) { return attribution::label_index(name).has_value(); }

std::string unknown_label(std::string_view key, const std::string& label) {
  std::string message = std::string(key) + ": unknown label \"" + label + "\" (known: " + attribution::label_names() + ")";
  return message;
}

template <class T>
bool contains(const std::vector<T>& list, const T& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

/// `cmdline:` entries compiled one by one, so that each bad pattern is reported at its own line.
bool read_cmdline(Diagnostics& diag, const Entry& entry, const std::string& where, std::vector<CmdlineRegex>& out) {
  std::vector<std::string> patterns;
  if (!detail::read_string_list(diag, entry.value, entry.mark, where, patterns)) return false;
  bool ok = true;
  std::size_t index = 0;
  for (const YAML::Node& item : entry.value) {
    std::string reason;
    if (auto regex = CmdlineRegex::compile(patterns[index], &reason)) {
      out.push_back(std::move(*regex));
    } else {
      diag.error(item, where + ": invalid regex \"" + patterns[index] + "\": " + reason);
      ok = false;
    }
    ++index;
  }
  return ok;
}

/// A matcher's name template: parsed, every {{.Matches.x}} naming a group of its cmdline regexes;
/// warns when it makes one group per process. nullopt after reporting the error.
std::optional<NameTemplate> parse_matcher_name(Diagnostics& diag, const std::string& name, const YAML::Mark& name_mark,
                                               const std::string& where, const std::vector<CmdlineRegex>& cmdline) {
  std::string reason;
  std::optional<NameTemplate> parsed = NameTemplate::parse(name, &reason);
  if (!parsed) {
    diag.error(name_mark, where + ".name: " + reason);
    return std::nullopt;
  }
  bool ok = true;
  for (const NameTemplate::Part& part : parsed->parts) {
    if (part.kind != NameTemplate::Kind::kMatch) continue;
    const bool known = std::any_of(cmdline.begin(), cmdline.end(),
                                   [&](const CmdlineRegex& r) { return r.group_index(part.text) != 0; });
    if (!known) {
      diag.error(name_mark, where + ".name: {{.Matches." + part.text + "}} names no group of this entry's cmdline "
                                    "regexes (write one as (?P<" + part.text + ">...))");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  for (const NameTemplate::Part& part : parsed->parts) {
    if (part.kind == NameTemplate::Kind::kPid || part.kind == NameTemplate::Kind::kStartTime) {
      diag.warn(name_mark, where + ".name: {{." + std::string(part.kind == NameTemplate::Kind::kPid ? "PID" : "StartTime") +
                               "}} makes one group per process; max_groups bounds them (the rest count in \"other\")");
      break;
    }
  }
  return parsed;
}

std::optional<Matcher> parse_matcher(Diagnostics& diag, const YAML::Node& node, std::size_t index) {
  const std::string where = "process_names[" + std::to_string(index) + "]";
  if (!node.IsMap()) {
    diag.error(node, where + ": expected a mapping with name and comm, exe and/or cmdline");
    return std::nullopt;
  }
  Matcher matcher;
  matcher.line = node.Mark().line + 1;
  bool ok = true;
  std::string name = "{{.ExeBase}}";  // process-exporter's default
  // A Mark, not a Node: assigning one YAML::Node to another rewrites the node it refers to.
  YAML::Mark name_mark = node.Mark();
  std::vector<std::string> unknown_keys;
  for (const Entry& entry : detail::entries(diag, node, where)) {
    if (entry.key == "name") {
      std::string text;
      if (detail::read_string(diag, entry.value, entry.mark, where + ".name", text)) {
        if (!text.empty()) name = text;  // process-exporter: an empty name means the default
        name_mark = entry.mark;
      } else {
        ok = false;
      }
    } else if (entry.key == "comm") {
      ok &= detail::read_string_list(diag, entry.value, entry.mark, where + ".comm", matcher.comm);
      for (const std::string& comm : matcher.comm) {
        if (comm.size() > kMaxCommLength) {
          diag.warn(entry.mark, where + ".comm: \"" + comm + "\" is longer than 15 characters and never matches "
                                        "(the kernel truncates comm); use exe or cmdline");
        }
      }
    } else if (entry.key == "exe") {
      ok &= detail::read_string_list(diag, entry.value, entry.mark, where + ".exe", matcher.exe);
    } else if (entry.key == "cmdline") {
      ok &= read_cmdline(diag, entry, where + ".cmdline", matcher.cmdline);
    } else {
      diag.warn(entry.key_node, where + ": unknown key \"" + entry.key + "\" ignored");
      unknown_keys.push_back(entry.key);
    }
  }
  if (!ok) return std::nullopt;
  if (matcher.comm.empty() && matcher.exe.empty() && matcher.cmdline.empty()) {
    std::string message = where + ": none of comm, exe or cmdline is given, so this entry matches nothing";
    if (!unknown_keys.empty()) message += " (unknown keys here: " + unknown_keys.front() + (unknown_keys.size() > 1 ? ", ..." : "") + ")";
    diag.error(node, message);
    return std::nullopt;
  }
  std::optional<NameTemplate> parsed = parse_matcher_name(diag, name, name_mark, where, matcher.cmdline);
  if (!parsed) return std::nullopt;
  matcher.name = std::move(*parsed);
  return matcher;
}

void parse_process_names(Diagnostics& diag, const Entry& entry, Config& cfg) {
  cfg.process_names.clear();
  if (entry.value.IsNull() || (entry.value.IsSequence() && entry.value.size() == 0)) {
    diag.warn(entry.mark, "process_names is empty: no process matches any entry (unmatched: " +
                              std::string(cfg.unmatched == Unmatched::kOther ? "other" : "ignore") + " applies)");
    return;
  }
  if (!entry.value.IsSequence()) {
    diag.error(entry.mark, "process_names: expected a list of entries (- name: ...)");
    return;
  }
  std::size_t index = 0;
  for (const YAML::Node& item : entry.value) {
    if (std::optional<Matcher> matcher = parse_matcher(diag, item, index)) cfg.process_names.push_back(std::move(*matcher));
    ++index;
  }
}

/// A histogram's upper bounds under `entry.key`: a non-empty, strictly increasing list of
/// positive finite numbers in `unit`.
void parse_buckets(Diagnostics& diag, const Entry& entry, std::string_view unit, std::vector<double>& out) {
  const std::string key(entry.key);
  if (!entry.value.IsSequence() || entry.value.size() == 0) {
    diag.error(entry.mark, key + ": expected a non-empty list of upper bounds in " + std::string(unit));
    return;
  }
  if (entry.value.size() > kMaxBuckets) {
    diag.error(entry.mark, key + ": more than " + std::to_string(kMaxBuckets) + " buckets (each one is a series per group)");
    return;
  }
  std::vector<double> bounds;
  for (const YAML::Node& item : entry.value) {
    double bound = 0;
    if (!detail::read_number(diag, item, item.IsNull() ? entry.mark : item.Mark(), key, bound)) return;
    if (!(bound > 0) || !std::isfinite(bound)) {
      diag.error(item, key + ": bounds must be positive and finite, not " + item.Scalar());
      return;
    }
    if (!bounds.empty() && bound <= bounds.back()) {
      diag.error(item, key + ": bounds must be strictly increasing (" + item.Scalar() + " follows a bound >= it)");
      return;
    }
    bounds.push_back(bound);
  }
  out = std::move(bounds);
}

void parse_events(Diagnostics& diag, const Entry& entry, Config& cfg) {
  std::vector<std::string> events;
  if (!detail::read_string_list(diag, entry.value, entry.mark, "events", events)) return;
  bool ok = true;
  std::size_t index = 0;
  std::vector<std::string> seen;
  for (const YAML::Node& item : entry.value) {
    const std::string& name = events[index++];
    if (connector::event_bit_for_name(name) == 0) {
      diag.error(item, "events: unknown event \"" + name + "\" (known: " + connector::event_names_list(", ") + ")");
      ok = false;
    } else if (contains(seen, name)) {
      diag.warn(item, "events: \"" + name + "\" is listed twice");
    } else {
      seen.push_back(name);
    }
  }
  if (ok && seen.empty()) {
    diag.error(entry.mark, "events: at least one event is needed");
    return;
  }
  if (contains(seen, std::string("exit")) && contains(seen, std::string("nonzero_exit"))) {
    diag.warn(entry.mark, "events: nonzero_exit has no effect next to exit (every exit is delivered)");
  }
  if (ok) cfg.events = std::move(seen);
}

void parse_attribution(Diagnostics& diag, const Entry& entry, Config& cfg) {
  std::vector<std::string> labels;
  if (!detail::read_string_list(diag, entry.value, entry.mark, "attribution", labels)) return;
  std::vector<std::string> seen;
  std::size_t index = 0;
  for (const YAML::Node& item : entry.value) {
    const std::string& label = labels[index++];
    if (!is_attribution_name(label)) {
      diag.error(item, unknown_label("attribution", label));
    } else if (contains(seen, label)) {
      diag.warn(item, "attribution: \"" + label + "\" is listed twice");
    } else {
      seen.push_back(label);
    }
  }
  cfg.attribution = std::move(seen);
}

void parse_attribution_limits(Diagnostics& diag, const Entry& entry, Config& cfg) {
  if (!entry.value.IsMap()) {
    diag.error(entry.mark, "attribution_limits: expected a mapping like {unit: 200, user: 100}");
    return;
  }
  for (const Entry& limit : detail::entries(diag, entry.value, "attribution_limits")) {
    if (!is_attribution_name(limit.key)) {
      diag.error(limit.key_node, unknown_label("attribution_limits", limit.key));
      continue;
    }
    detail::read_count(diag, limit.value, limit.mark, "attribution_limits." + limit.key, cfg.attribution_limits[limit.key], 1,
                       100'000);
  }
}

void parse_per_group(Diagnostics& diag, const Entry& entry, Config& cfg) {
  std::vector<std::string> names;
  if (!detail::read_string_list(diag, entry.value, entry.mark, "per_group", names)) return;
  GroupDetails details;
  std::size_t index = 0;
  for (const YAML::Node& item : entry.value) {
    const std::string& name = names[index++];
    if (name == kAllGroupDetails) {
      details = GroupDetails::all();
    } else if (const std::optional<GroupDetail> option = group_detail(name)) {
      details.set(*option);
    } else {
      diag.error(item, "per_group: unknown option \"" + name + "\" (known: " +
                           group_detail_names(GroupDetails::all(), true) + ", or all)");
    }
  }
  cfg.per_group = details;
}

void parse_scope(Diagnostics& diag, const Entry& entry, Config& cfg) {
  std::string text;
  if (!detail::read_string(diag, entry.value, entry.mark, "scope", text)) return;
  const bool path = text.starts_with('/') && text.find("/../") == std::string::npos && !text.ends_with("/..") &&
                    text.find('\n') == std::string::npos;
  if (text != kScopeHost && text != kScopeOwnPod && !path) {
    diag.error(entry.mark, "scope: must be \"host\", \"own_pod\" or a cgroup path starting with '/' "
                           "(e.g. /system.slice/nginx.service), not \"" + text + "\"");
    return;
  }
  cfg.scope = text;
}

void parse_root(Diagnostics& diag, const YAML::Node& root, Config& cfg) {
  const std::vector<Entry> all = detail::entries(diag, root, "top level");
  // `unmatched` first: the process_names warning mentions it.
  for (const Entry& entry : all) {
    if (entry.key != "unmatched") continue;
    std::string text;
    if (!detail::read_string(diag, entry.value, entry.mark, "unmatched", text)) continue;
    if (text == "other") {
      cfg.unmatched = Unmatched::kOther;
    } else if (text == "ignore") {
      cfg.unmatched = Unmatched::kIgnore;
    } else {
      diag.error(entry.mark, "unmatched: must be \"other\" or \"ignore\", not \"" + text + "\"");
    }
  }
  for (const Entry& entry : all) {
    const std::string& key = entry.key;
    if (key == "process_names") {
      parse_process_names(diag, entry, cfg);
    } else if (key == "unmatched") {
      // read above
    } else if (key == "max_groups") {
      detail::read_count(diag, entry.value, entry.mark, key, cfg.max_groups, 1, 1'000'000);
    } else if (key == "max_processes") {
      detail::read_count(diag, entry.value, entry.mark, key, cfg.max_processes, 16, 4'194'304);  // PID_MAX_LIMIT
    } else if (key == "audit_interval_seconds") {
      detail::read_count(diag, entry.value, entry.mark, key, cfg.audit_interval_seconds, 0, 86'400);
    } else if (key == "receive_buffer_bytes") {
      detail::read_count(diag, entry.value, entry.mark, key, cfg.receive_buffer_bytes, 0, std::size_t{1} << 30);
    } else if (key == "ring_capacity") {
      std::size_t capacity = 0;
      if (!detail::read_count(diag, entry.value, entry.mark, key, capacity, 16, std::size_t{1} << 24)) continue;
      if ((capacity & (capacity - 1)) != 0) {
        diag.error(entry.mark, "ring_capacity: must be a power of two (e.g. 65536), not " + std::to_string(capacity));
        continue;
      }
      // Small rings exist for overload tests; in production they drop events under ordinary bursts.
      if (capacity < 1024) diag.warn(entry.mark, "ring_capacity below 1024 drops events under ordinary bursts");
      cfg.ring_capacity = capacity;
    } else if (key == "lifetime_buckets") {
      parse_buckets(diag, entry, "seconds", cfg.lifetime_buckets);
    } else if (key == "peak_memory_buckets") {
      parse_buckets(diag, entry, "bytes", cfg.peak_memory_buckets);
    } else if (key == "taskstats") {
      detail::read_bool(diag, entry.value, entry.mark, key, cfg.taskstats);
    } else if (key == "events") {
      parse_events(diag, entry, cfg);
    } else if (key == "attribution") {
      parse_attribution(diag, entry, cfg);
    } else if (key == "attribution_limits") {
      parse_attribution_limits(diag, entry, cfg);
    } else if (key == "read_cgroup") {
      detail::read_bool(diag, entry.value, entry.mark, key, cfg.read_cgroup);
    } else if (key == "children") {
      detail::read_bool(diag, entry.value, entry.mark, key, cfg.children);
    } else if (key == "per_group") {
      parse_per_group(diag, entry, cfg);
    } else if (key == "scope") {
      parse_scope(diag, entry, cfg);
    } else {
      diag.warn(entry.key_node, "unknown key \"" + key + "\" ignored");
    }
  }
}

std::uint32_t mask_of(const std::vector<std::string>& events) {
  std::uint32_t mask = 0;
  for (const std::string& name : events) mask |= connector::event_bit_for_name(name);
  return mask;
}

/// Settings that follow from others.
void finish(Config& cfg) {
  cfg.event_mask = mask_of(cfg.events);
  const bool templates = std::any_of(cfg.process_names.begin(), cfg.process_names.end(),
                                     [](const Matcher& m) { return m.name.needs_cgroup(); });
  const bool attribution = std::any_of(cfg.attribution.begin(), cfg.attribution.end(), [](const std::string& label) {
    const std::optional<std::size_t> index = attribution::label_index(label);
    return index && attribution::kLabels[*index].source == attribution::LabelSource::kCgroup;
  });
  if (templates || attribution) cfg.read_cgroup = true;
}

}  // namespace

std::map<std::string, std::size_t> default_attribution_limits() {
  std::map<std::string, std::size_t> limits;
  for (const attribution::AttributionLabel& label : attribution::kLabels) limits[label.name] = label.default_limit;
  return limits;
}

Config default_config() {
  Config cfg;
  finish(cfg);
  return cfg;
}

LoadResult load_config_string(std::string_view text, const std::string& name) {
  Diagnostics diag(name);
  Config cfg;
  cfg.source = name;
  try {
    if (const std::optional<YAML::Node> root = detail::parse_document(diag, text, true)) parse_root(diag, *root, cfg);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {  // yaml-cpp's conversions and anything unforeseen stay in this layer
    diag.error_at_line(0, 0, std::string("unexpected error: ") + e.what());
  }
  finish(cfg);
  return detail::finish_result<LoadResult>(diag, std::move(cfg));
}

LoadResult load_config_file(const std::string& path) {
  std::string text, error;
  if (!detail::read_file(path, text, error)) return detail::unreadable_result<LoadResult>(path, std::move(error));
  return load_config_string(text, path);
}

std::string describe(const Config& cfg) {
  std::ostringstream out;
  auto list = [&](const auto& items) {
    out << '[';
    for (std::size_t i = 0; i < items.size(); ++i) out << (i ? ", " : "") << items[i];
    out << ']';
  };
  out << "config: " << cfg.source << "\nprocess_names:";
  if (cfg.process_names.empty()) out << " []  # nothing matches";
  out << '\n';
  for (const Matcher& m : cfg.process_names) {
    out << "  - name: \"" << m.name.source << "\"";
    if (!m.comm.empty()) {
      out << "  comm: ";
      list(m.comm);
    }
    if (!m.exe.empty()) {
      out << "  exe: ";
      list(m.exe);
    }
    if (!m.cmdline.empty()) {
      std::vector<std::string> patterns;
      for (const CmdlineRegex& r : m.cmdline) patterns.push_back("'" + r.pattern() + "'");
      out << "  cmdline: ";
      list(patterns);
    }
    if (m.comm.empty() && m.exe.empty() && m.cmdline.empty()) out << "  # every process";
    out << '\n';
  }
  out << "max_groups: " << cfg.max_groups << "\nunmatched: " << (cfg.unmatched == Unmatched::kOther ? "other" : "ignore")
      << "\nchildren: " << (cfg.children ? "true" : "false")
      << "\nlifetime_buckets: ";
  list(cfg.lifetime_buckets);
  out << "\npeak_memory_buckets: ";
  list(cfg.peak_memory_buckets);
  out << "\ntaskstats: " << (cfg.taskstats ? "true" : "false");
  out << "\nring_capacity: " << cfg.ring_capacity << "\nmax_processes: " << cfg.max_processes
      << "\naudit_interval_seconds: " << cfg.audit_interval_seconds
      << "\nreceive_buffer_bytes: " << cfg.receive_buffer_bytes << "\nevents: ";
  list(cfg.events);
  out << "\nattribution: ";
  list(cfg.attribution);
  out << "\nattribution_limits: {";
  bool first = true;
  for (const auto& [label, limit] : cfg.attribution_limits) {
    out << (first ? "" : ", ") << label << ": " << limit;
    first = false;
  }
  out << "}\nread_cgroup: " << (cfg.read_cgroup ? "true" : "false") << "\nper_group: ["
      << group_detail_names(cfg.per_group, true) << "]";
  if (const std::string per_host = group_detail_names(cfg.per_group, false); !per_host.empty()) {
    out << "   # per host: " << per_host;
  }
  out << "\nscope: " << cfg.scope << '\n';
  return out.str();
}

}  // namespace procevents::config
