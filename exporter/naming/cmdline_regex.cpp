#include "naming/cmdline_regex.h"

#include <re2/re2.h>

#include <algorithm>

namespace procevents::naming {

std::optional<CmdlineRegex> CmdlineRegex::compile(std::string_view pattern, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<CmdlineRegex> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  if (pattern.size() > kMaxPatternBytes) {
    return fail("pattern longer than " + std::to_string(kMaxPatternBytes) + " bytes");
  }
  RE2::Options options;  // RE2's defaults are Go's syntax: Perl classes, \b, UTF-8, '.' without \n
  options.set_log_errors(false);
  options.set_max_mem(kMaxProgramBytes);
  CmdlineRegex result;
  result.pattern_.assign(pattern);
  auto regex = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!regex->ok()) {
    std::string reason = regex->error();
    // Go accepts (?<name>...) only since 1.22; this RE2 (and process-exporter 0.7.10) never did.
    if (pattern.find("(?<") != std::string_view::npos && reason.find("(?<") != std::string::npos) {
      reason += " (write a named group as (?P<name>...))";
    }
    return fail(std::move(reason));
  }
  result.regex_ = std::move(regex);
  result.group_count_ = static_cast<std::size_t>(result.regex_->NumberOfCapturingGroups());
  // Go refuses a repeated group name; this RE2 keeps the first silently.
  if (result.regex_->CapturingGroupNames().size() != result.regex_->NamedCapturingGroups().size()) {
    return fail("duplicate capture group name");
  }
  // Each submatch costs per byte matched: bound them (real patterns have a handful).
  if (result.group_count_ > kMaxGroups) {
    return fail("more than " + std::to_string(kMaxGroups) + " capturing groups; use (?:...) for grouping");
  }
  for (const auto& [name, index] : result.regex_->NamedCapturingGroups()) {
    result.named_groups_.emplace_back(name, static_cast<std::size_t>(index));
  }
  std::sort(result.named_groups_.begin(), result.named_groups_.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  return result;
}

std::size_t CmdlineRegex::group_index(std::string_view name) const {
  for (const auto& [group, index] : named_groups_) {
    if (group == name) return index;
  }
  return 0;
}

bool CmdlineRegex::matches(std::string_view text) const {
  return regex_->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED, nullptr, 0);
}

bool CmdlineRegex::matches(std::string_view text, std::vector<std::string_view>& groups) const {
  // Per thread: naming runs on the aggregator thread and in tests, and should not allocate per call.
  thread_local std::vector<re2::StringPiece> found;
  found.assign(group_count_ + 1, re2::StringPiece());
  if (!regex_->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED, found.data(),
                     static_cast<int>(found.size()))) {
    return false;
  }
  groups.resize(found.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    groups[i] = found[i].data() ? std::string_view(found[i].data(), found[i].size()) : std::string_view();
  }
  return true;
}

}  // namespace procevents::naming
