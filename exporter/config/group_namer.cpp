#include "config/group_namer.h"

#include <algorithm>

namespace procevents::config {

namespace {

std::string_view base_name(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

/// argv[0] as process-exporter uses it for exe matching, falling back to the exe link.
std::string_view argv0(const ProcessIdentity& p) {
  if (!p.cmdline.empty() && !p.cmdline[0].empty()) return p.cmdline[0];
  return p.exe;
}

bool exe_matches(const Matcher& m, const ProcessIdentity& p) {
  const std::string_view first = argv0(p);
  if (first.empty()) return false;
  return std::any_of(m.exe.begin(), m.exe.end(), [&](const std::string& wanted) {
    if (wanted.find('/') != std::string::npos) return wanted == first || wanted == p.exe;
    return wanted == base_name(first) || (!p.exe.empty() && wanted == base_name(p.exe));
  });
}

}  // namespace

GroupNamer::GroupNamer(const Config& config) : matchers_(config.process_names), unmatched_(config.unmatched) {
  for (const Matcher& m : matchers_) {
    for (const auto& part : m.name.parts) {
      if (part.variable && (part.text == "Cgroup" || part.text == "Unit" || part.text == "ContainerID" ||
                            part.text == "PodUID")) {
        uses_cgroup_ = true;
      }
    }
  }
}

std::vector<std::string> GroupNamer::predeclared_groups() const {
  std::vector<std::string> names;
  for (const Matcher& m : matchers_) {
    if (m.name.has_variables()) continue;
    std::string name;
    for (const auto& part : m.name.parts) name += part.text;
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

std::optional<std::string> GroupNamer::name_for(const ProcessIdentity& p) const {
  if (matchers_.empty()) return std::string(p.comm.empty() ? "unknown" : p.comm);

  std::string joined;  // cmdline as one string, built only if a matcher needs it
  bool joined_ready = false;
  std::vector<std::pair<std::string_view, std::string>> captures;
  for (const Matcher& m : matchers_) {
    if (!m.comm.empty() && std::find(m.comm.begin(), m.comm.end(), p.comm) == m.comm.end()) continue;
    if (!m.exe.empty() && !exe_matches(m, p)) continue;
    captures.clear();
    bool all = true;
    if (!m.cmdline.empty() && !joined_ready) {
      for (std::size_t i = 0; i < p.cmdline.size(); ++i) {
        if (i) joined += ' ';
        joined += p.cmdline[i];
      }
      joined_ready = true;
    }
    for (const CmdlineRegex& regex : m.cmdline) {
      std::smatch match;
      if (!std::regex_search(joined, match, regex.regex)) {
        all = false;
        break;
      }
      for (const auto& [name, index] : regex.captures) {
        if (index < match.size()) captures.emplace_back(name, match[index].str());
      }
    }
    if (!all) continue;

    std::string name;
    for (const auto& part : m.name.parts) {
      if (!part.variable) {
        name += part.text;
      } else if (part.text == "Comm") {
        name += p.comm;
      } else if (part.text == "ExeBase") {
        const std::string_view first = argv0(p);
        name += first.empty() ? p.comm : base_name(first);
      } else if (part.text == "ExeFull") {
        const std::string_view first = argv0(p);
        name += first.empty() ? p.comm : first;
      } else if (part.text == "Username") {
        name += p.username;
      } else if (part.text == "Cgroup") {
        name += p.cgroup;
      } else if (part.text == "Unit") {
        name += p.unit;
      } else if (part.text == "ContainerID") {
        name += p.container_id;
      } else if (part.text == "PodUID") {
        name += p.pod_uid;
      } else {  // Matches.NAME, validated at load
        const std::string_view capture = std::string_view(part.text).substr(8);
        for (const auto& [key, value] : captures) {
          if (key == capture) name += value;
        }
      }
    }
    if (name.empty()) name = p.comm.empty() ? "unknown" : std::string(p.comm);
    return name;
  }
  if (unmatched_ == Unmatched::kIgnore) return std::nullopt;
  return std::string("other");
}

}  // namespace procevents::config
