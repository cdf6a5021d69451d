// One process-exporter `cmdline` pattern: Go regexp syntax, compiled and run by RE2 (libre2), the
// engine Go's regexp package follows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace re2 {
class RE2;
}

namespace procevents::naming {

/// A compiled `cmdline` regex. Immutable after compile(); copies are cheap; const calls are safe from
/// any thread.
///
/// The syntax is RE2's, which is Go's: (?P<name>...) groups, flags such as (?i) (?s) (?U) anywhere,
/// \Q...\E, \pL and [[:digit:]] classes, Unicode in and out of classes. What Go refuses is refused
/// (backreferences, lookaround, repetition counts above 1000, a**, a repeated group name) with
/// RE2's reason; so are patterns over 4 KiB or 100 capturing groups. Matching
/// is leftmost-first over UTF-8, as Go's FindStringSubmatch, and linear in the text: every user on
/// the host chooses their own command line, so no pattern may cost exponential time or stack depth.
class CmdlineRegex {
 public:
  static constexpr std::size_t kMaxPatternBytes = 4096;
  static constexpr std::int64_t kMaxProgramBytes = 2 << 20;  // RE2's compiled-program budget per pattern
  static constexpr std::size_t kMaxGroups = 100;              // capturing groups per pattern

  /// Compiles `pattern`. On failure returns nullopt and sets `*error` to RE2's reason. Never throws
  /// except std::bad_alloc.
  static std::optional<CmdlineRegex> compile(std::string_view pattern, std::string* error);

  const std::string& pattern() const { return pattern_; }
  /// Named groups in order of appearance, with their submatch index (capturing groups count from 1).
  const std::vector<std::pair<std::string, std::size_t>>& named_groups() const { return named_groups_; }
  /// Submatch index of the group called `name`, or 0 when there is none.
  std::size_t group_index(std::string_view name) const;
  std::size_t group_count() const { return group_count_; }

  /// Whether the pattern matches anywhere in `text`. Never throws.
  bool matches(std::string_view text) const;
  /// As matches(); on a match `groups` gets group_count() + 1 views into `text`: the whole leftmost
  /// match, then each group (empty when it did not take part).
  bool matches(std::string_view text, std::vector<std::string_view>& groups) const;

 private:
  CmdlineRegex() = default;

  std::string pattern_;
  std::vector<std::pair<std::string, std::size_t>> named_groups_;
  std::size_t group_count_ = 0;
  std::shared_ptr<const re2::RE2> regex_;  // immutable: copies of a configuration share it
};

}  // namespace procevents::naming
