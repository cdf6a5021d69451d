#include "naming/group_namer.h"

#include <algorithm>
#include <charconv>
#include <ctime>

#include "common/cmdline_limit.h"
#include "common/utf8.h"

namespace procevents::naming {

namespace {

using Kind = NameTemplate::Kind;

/// Go's filepath.Base: the last element after trailing slashes are removed; "/" for only slashes,
/// "." for the empty path. process-exporter's ExeBase, so "sshd: root@pts/0" gives "0" there too.
std::string_view go_base(std::string_view path) {
  if (path.empty()) return ".";
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/") return path;
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool exe_matches(const Matcher& m, const ProcessIdentity& p) {
  if (p.cmdline.empty()) return false;
  const std::string_view first = p.cmdline[0];
  return std::any_of(m.exe.begin(), m.exe.end(), [&](const std::string& wanted) {
    return wanted.find('/') != std::string::npos ? wanted == first : wanted == go_base(first);
  });
}

/// A wall-clock time as Go's time.Time.String() prints it, in the local zone:
/// "2006-01-02 15:04:05.999999999 -0700 MST" with trailing zeros of the fraction dropped.
void append_go_time(std::string& out, std::int64_t epoch_ns) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ns / 1'000'000'000);
  long fraction = static_cast<long>(epoch_ns % 1'000'000'000);
  std::tm local{};
  if (!localtime_r(&seconds, &local)) return;
  char text[64];
  std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  out.append(text, length);
  if (fraction != 0) {
    char digits[10] = {};
    for (int i = 8; i >= 0; --i, fraction /= 10) digits[i] = static_cast<char>('0' + fraction % 10);
    int last = 8;
    while (digits[last] == '0') --last;
    out += '.';
    out.append(digits, static_cast<std::size_t>(last + 1));
  }
  length = std::strftime(text, sizeof text, " %z %Z", &local);
  out.append(text, length);
}

/// argv joined by single spaces, cut at `limit` bytes, into `out` (whose capacity is reused).
void join(std::span<const std::string> args, std::size_t limit, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < args.size() && out.size() < limit; ++i) {
    if (i) out += ' ';
    out.append(args[i], 0, limit - std::min(limit, out.size()));
  }
  if (out.size() > limit) out.resize(limit);
}

}  // namespace

/// Per-thread buffers: name_for() is const and shared, and should not allocate per call.
struct GroupNamer::Scratch {
  std::string cmdline;
  std::vector<std::vector<std::string_view>> groups;  // per cmdline regex of the rule being tried
};

GroupNamer::GroupNamer(const NamingRules& rules) : unmatched_(rules.unmatched), unmatched_join_parent_(rules.children) {
  for (const Matcher& matcher : rules.process_names) {
    Rule rule{matcher, {}, std::vector<bool>(matcher.cmdline.size(), false)};
    for (const NameTemplate::Part& part : matcher.name.parts) {
      if (part.kind != Kind::kMatch) continue;
      Source source;
      for (std::size_t r = 0; r < matcher.cmdline.size(); ++r) {  // the last regex naming the group wins
        if (const std::size_t group = matcher.cmdline[r].group_index(part.text)) source = {r, group};
      }
      if (source.group != 0) rule.wants_groups[source.regex] = true;
      rule.sources.push_back(source);  // group 0 (not found; the loader refuses it) renders empty
    }
    uses_cgroup_ = uses_cgroup_ || matcher.name.needs_cgroup();
    uses_exe_ = uses_exe_ || !matcher.exe.empty() ||
                std::any_of(matcher.name.parts.begin(), matcher.name.parts.end(), [](const NameTemplate::Part& part) {
                  return part.kind == Kind::kExeBase || part.kind == Kind::kExeFull;
                });
    // The catch-all asks only whether there is a command line, which stat tells (kernel threads
    // have none): the caller then passes the program alone, as for a process whose argv is gone.
    uses_cmdline_ = uses_cmdline_ || uses_exe_ ||
                    std::any_of(matcher.cmdline.begin(), matcher.cmdline.end(), [](const CmdlineRegex& regex) {
                      return regex.pattern() != ".+" && regex.pattern() != ".*";
                    });
    uses_username_ = uses_username_ || std::any_of(matcher.name.parts.begin(), matcher.name.parts.end(),
                                                   [](const NameTemplate::Part& part) { return part.kind == Kind::kUsername; });
    rules_.push_back(std::move(rule));
  }
}

std::vector<std::string> GroupNamer::predeclared_groups() const {
  std::vector<std::string> names;
  for (const Rule& rule : rules_) {
    if (rule.matcher.name.has_variables()) continue;
    std::string name;
    for (const NameTemplate::Part& part : rule.matcher.name.parts) append_valid_utf8(name, part.text);
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
  }
  return names;
}

std::string GroupNamer::render(const Rule& rule, const ProcessIdentity& p, const Scratch& scratch) const {
  std::string name;
  std::size_t match_index = 0;
  for (const NameTemplate::Part& part : rule.matcher.name.parts) {
    switch (part.kind) {
      case Kind::kLiteral:
        name += part.text;
        break;
      case Kind::kComm:
        name += p.comm;
        break;
      case Kind::kExeBase:
        name += p.cmdline.empty() ? p.comm : go_base(p.cmdline[0]);
        break;
      case Kind::kExeFull:
        name += p.cmdline.empty() ? p.comm : std::string_view(p.cmdline[0]);
        break;
      case Kind::kPid: {
        char digits[16];
        const auto end = std::to_chars(digits, digits + sizeof digits, p.pid).ptr;
        name.append(digits, end);
        break;
      }
      case Kind::kStartTime:
        if (p.start_time_ns > 0) append_go_time(name, p.start_time_ns);
        break;
      case Kind::kUsername:
        name += p.username;
        break;
      case Kind::kCgroup:
        name += p.cgroup;
        break;
      case Kind::kCgroups:
        name += '[';
        name += p.cgroup;
        name += ']';
        break;
      case Kind::kUnit:
        name += p.unit;
        break;
      case Kind::kContainerId:
        name += p.container_id;
        break;
      case Kind::kPodUid:
        name += p.pod_uid;
        break;
      case Kind::kMatch: {
        const Source& source = rule.sources[match_index++];
        if (source.group != 0 && source.regex < scratch.groups.size() &&
            source.group < scratch.groups[source.regex].size()) {
          name += scratch.groups[source.regex][source.group];
        }
        break;
      }
    }
  }
  if (name.empty()) name = p.comm.empty() ? std::string_view("unknown") : p.comm;
  make_valid_utf8(name);
  return name;
}

std::optional<std::string> GroupNamer::name_for(const ProcessIdentity& p) const {
  try {
    thread_local Scratch scratch;
    bool joined = false;
    for (const Rule& rule : rules_) {
      const Matcher& m = rule.matcher;
      if (!m.comm.empty() && std::find(m.comm.begin(), m.comm.end(), p.comm) == m.comm.end()) continue;
      if (!m.exe.empty() && !exe_matches(m, p)) continue;
      if (!m.cmdline.empty()) {
        if (!joined) {
          join(p.cmdline, kMaxCmdlineBytes, scratch.cmdline);
          joined = true;
        }
        scratch.groups.resize(std::max(scratch.groups.size(), m.cmdline.size()));
        bool all = true;
        for (std::size_t i = 0; i < m.cmdline.size() && all; ++i) {
          all = rule.wants_groups[i] ? m.cmdline[i].matches(scratch.cmdline, scratch.groups[i])
                                     : m.cmdline[i].matches(scratch.cmdline);
        }
        if (!all) continue;
      }
      return render(rule, p, scratch);
    }
    return std::nullopt;
  } catch (const std::exception&) {
    return std::string("unknown");
  }
}

}  // namespace procevents::naming
