#include "naming/name_template.h"

#include <algorithm>

namespace procevents::naming {

namespace {

using Kind = NameTemplate::Kind;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

constexpr struct {
  std::string_view name;
  Kind kind;
} kVariables[] = {
    {"Comm", Kind::kComm},       {"ExeBase", Kind::kExeBase}, {"ExeFull", Kind::kExeFull},
    {"Username", Kind::kUsername}, {"Cgroup", Kind::kCgroup}, {"Cgroups", Kind::kCgroups},
    {"Unit", Kind::kUnit},       {"ContainerID", Kind::kContainerId}, {"PodUID", Kind::kPodUid},
    {"PID", Kind::kPid},         {"StartTime", Kind::kStartTime},
};

/// The inside of one {{ }} action, already trimmed.
bool parse_action(std::string_view action, NameTemplate::Part& out, std::string* error) {
  auto fail = [&](std::string message) {
    if (error) *error = std::move(message);
    return false;
  };
  const std::string shown = "{{" + std::string(action) + "}}";
  if (action.size() < 2 || action[0] != '.' || !std::all_of(action.begin() + 1, action.end(), [](char c) {
        return is_word(c) || c == '.';
      })) {
    return fail("unsupported template action " + shown + ": only variables like {{.Comm}} are supported");
  }
  const std::string_view name = action.substr(1);
  if (name == "Matches") return fail("{{.Matches}} needs a group name: {{.Matches.NAME}}");
  if (name == "Cwd") return fail("{{.Cwd}} is not supported: the working directory is not read");
  if (name.substr(0, 8) == "Matches.") {
    const std::string_view group = name.substr(8);
    if (group.empty() || group.find('.') != std::string_view::npos) return fail("malformed " + shown);
    out = {Kind::kMatch, std::string(group)};
    return true;
  }
  for (const auto& variable : kVariables) {
    if (variable.name == name) {
      out = {variable.kind, ""};
      return true;
    }
  }
  return fail("unknown template variable " + shown +
              " (known: Comm, ExeBase, ExeFull, Username, Matches.NAME, PID, StartTime, Cgroup, Cgroups, Unit, ContainerID, "
              "PodUID)");
}

}  // namespace

std::optional<NameTemplate> NameTemplate::parse(std::string_view text, std::string* error) {
  NameTemplate result;
  result.source = std::string(text);
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) result.parts.push_back({Kind::kLiteral, std::move(literal)});
    literal.clear();
  };
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t open = text.find("{{", at);
    if (open == std::string_view::npos) {
      literal += text.substr(at);
      break;
    }
    literal += text.substr(at, open - at);
    std::size_t inner = open + 2;
    // Go: "{{- " trims the whitespace before the action, " -}}" the whitespace after it.
    if (inner + 1 < text.size() && text[inner] == '-' && is_space(text[inner + 1])) {
      while (!literal.empty() && is_space(literal.back())) literal.pop_back();
      inner += 2;
    }
    const std::size_t close = text.find("}}", inner);
    if (close == std::string_view::npos) {
      if (error) *error = "unterminated \"{{\" in template \"" + std::string(text) + "\"";
      return std::nullopt;
    }
    std::size_t inner_end = close;
    const bool trim_after = inner_end >= inner + 2 && text[inner_end - 1] == '-' && is_space(text[inner_end - 2]);
    if (trim_after) inner_end -= 2;
    Part part;
    if (!parse_action(trim(text.substr(inner, inner_end - inner)), part, error)) return std::nullopt;
    flush();
    result.parts.push_back(std::move(part));
    at = close + 2;
    if (trim_after) {
      while (at < text.size() && is_space(text[at])) ++at;
    }
  }
  flush();
  return result;
}

bool NameTemplate::has_variables() const {
  return std::any_of(parts.begin(), parts.end(), [](const Part& p) { return p.kind != Kind::kLiteral; });
}

bool NameTemplate::needs_cgroup() const {
  return std::any_of(parts.begin(), parts.end(), [](const Part& p) {
    return p.kind == Kind::kCgroup || p.kind == Kind::kCgroups || p.kind == Kind::kUnit ||
           p.kind == Kind::kContainerId || p.kind == Kind::kPodUid;
  });
}

}  // namespace procevents::naming
