// One process-exporter `cmdline` pattern: Go RE2 syntax, translated to and run by std::regex.
#pragma once

#include <cstddef>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace procevents::naming {

/// A compiled `cmdline` regex. Immutable after compile(); const calls are safe from any thread.
///
/// Translation RE2 -> ECMAScript: (?P<name>...) and (?<name>...) become plain groups whose submatch
/// index is remembered; leading (?i), (?s), (?m) flags; \A, \z, \Q...\E, \a, \x{...} and octal
/// escapes; '.' never matches '\n' (RE2's default); '{' that does not start a repetition and ']'
/// first in a class are literals. What RE2 rejects is rejected: backreferences, lookaround, \p
/// classes, repetition counts above 1000, a repetition of a repetition (a**). Non-ASCII characters
/// are matched as their UTF-8 byte sequence; inside [...] they are refused.
///
/// Matching uses libstdc++'s polynomial (Thompson NFA) executor, not its backtracking one: that one
/// recurses once per input byte (a 4 KiB command line overflows a 1 MiB stack on '.+') and is
/// exponential on patterns like (a+)+b, and every process chooses its own command line. A yes/no
/// answer costs one pass, O(text x pattern size). Submatches are those of the leftmost match, as in
/// RE2, except that when alternatives of different lengths match at the same place the longer one
/// is taken where RE2 takes the first: (x|xy) on "xy" captures "xy".
class CmdlineRegex {
 public:
  static constexpr std::size_t kMaxPatternBytes = 4096;
  static constexpr std::size_t kMaxSize = 1000;    // atoms after expanding {n,m}: bounds the NFA and the per-byte cost
  static constexpr std::size_t kMaxRepeat = 1000;  // RE2's limit for {n,m}
  static constexpr std::size_t kMaxNesting = 64;   // parentheses: std::regex's parser recurses on them

  /// Translates and compiles `pattern`. On failure returns nullopt and sets `*error` to the reason
  /// (the pattern itself is not repeated in it). Never throws.
  static std::optional<CmdlineRegex> compile(std::string_view pattern, std::string* error);

  const std::string& pattern() const { return pattern_; }
  /// Named groups in order of appearance, with their submatch index (capturing groups count from 1).
  const std::vector<std::pair<std::string, std::size_t>>& named_groups() const { return named_groups_; }
  /// Submatch index of the group called `name`, or 0 when there is none.
  std::size_t group_index(std::string_view name) const;
  std::size_t group_count() const { return group_count_; }

  /// Whether the pattern matches anywhere in `text`. Never throws except std::bad_alloc.
  bool matches(std::string_view text) const;
  /// As matches(); on a match `groups` gets group_count() + 1 views into `text`: the whole leftmost
  /// match, then each group (empty when it did not take part).
  bool matches(std::string_view text, std::vector<std::string_view>& groups) const;

 private:
  CmdlineRegex() = default;

  std::string pattern_;
  std::vector<std::pair<std::string, std::size_t>> named_groups_;
  std::size_t group_count_ = 0;
  std::regex search_;    // [\s\S]*?(T) with T's own groups made non-capturing: one pass decides
  std::regex anchored_;  // T with its groups, tried at each start up to search_'s match; only when T has groups
};

}  // namespace procevents::naming
