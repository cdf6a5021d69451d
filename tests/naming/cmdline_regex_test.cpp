// CmdlineRegex: Go regexp patterns (as process-exporter users write them) run by RE2.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "naming/cmdline_regex.h"
#include "support/refusal.h"

using procevents::testing::Refusal;
using procevents::naming::CmdlineRegex;

namespace {
CmdlineRegex compile_ok(const std::string& pattern) {
  std::string error;
  auto regex = CmdlineRegex::compile(pattern, &error);
  INFO(pattern << ": " << error);
  REQUIRE(regex);
  return std::move(*regex);
}
}  // namespace

TEST_CASE("RE2 syntax matches as RE2 would", "[naming][regex]") {
  struct Row {
    const char* pattern;
    const char* text;
    bool match;
  };
  const Row rows[] = {
      {"java", "/usr/bin/java -jar app.jar", true},
      {"^java", "/usr/bin/java", false},
      {"^/usr/bin/java", "/usr/bin/java", true},
      {"(?i)^JAVA ", "java -jar x", true},
      {"\\Ajava\\z", "java", true},
      {"\\Ajava\\z", "java -jar", false},
      {"\\Q1+1\\E", "echo 1+1", true},
      {"\\Q1+1\\E", "echo 11", false},
      {"a.c", "a\nc", false},  // '.' does not match a newline unless (?s)
      {"(?s)a.c", "a\nc", true},
      {"x{2}", "x{2}", false},
      {"x{2}", "xx", true},
      {"x{", "x{", true},          // a '{' that starts no repetition is a literal
      {"[]a]", "]", true},         // ']' first in a class is a literal
      {"\\x{41}", "A", true},
      {"caf\u00e9+", "caf\u00e9\u00e9", true},  // the quantifier repeats the whole character
      {"--config\\s+(?P<Cfg>\\S+)", "app --config /etc/a.yml", true},
      {"\\d+\\.\\d+", "python3.11", true},
      {"[[:digit:]]", "v2", true},
      {"(?U)a+", "aaa", true},
      {"a(?i)B", "ab", true},         // flags anywhere, as in Go
      {"\\pL+\\d", "\u00e9t\u00e92", true},  // Unicode classes
      {"[\u00e9\u00e8]t\u00e9", "\u00e8t\u00e9", true},  // non-ASCII in a class
  };
  for (const Row& row : rows) {
    INFO(row.pattern << " on \"" << row.text << "\"");
    CHECK(compile_ok(row.pattern).matches(row.text) == row.match);
  }
}

TEST_CASE("what RE2 refuses is refused, with a reason", "[naming][regex]") {
  const Refusal rows[] = {
      {"(a)\\1", "invalid escape"},  // backreference
      {"a(?=b)", "invalid perl operator"},  // lookaround
      {"a(?!b)", "invalid perl operator"},
      {"(?<=a)b", "invalid perl operator"},
      {"(?<v>x)", "(?P<name>...)"},  // Go >= 1.22 syntax; process-exporter 0.7.10 refuses it too
      {"a**", "bad repetition"},
      {"*a", "no argument"},
      {"a{1001}", "invalid repetition size"},
      {"a{5,2}", "invalid repetition size"},
      {"(a{1000}){1000}", "invalid repetition size"},
      {"(a", "missing )"},
      {"a)", "unexpected )"},
      {"(?P<1x-y>a)", "invalid named capture"},
      {"(?P<n>a)(?P<n>b)", "duplicate capture group name"},
      {"[a", "missing ]"},
  };
  for (const Refusal& row : rows) {
    std::string error;
    INFO(row.input);
    CHECK_FALSE(CmdlineRegex::compile(row.input, &error));
    CHECK_THAT(error, Catch::Contains(row.reason, Catch::CaseSensitive::No));
  }
  std::string error;
  CHECK_FALSE(CmdlineRegex::compile(std::string(CmdlineRegex::kMaxPatternBytes + 1, 'a'), &error));
  CHECK_THAT(error, Catch::Contains("4096 bytes"));
  CHECK_FALSE(CmdlineRegex::compile(std::string(101, '(') + std::string(101, ')'), &error));
  CHECK_THAT(error, Catch::Contains("capturing groups"));
  // Deep nesting is RE2's to bound (its parser keeps its own stack): compiled or refused, never a crash.
  std::string deep;
  for (int i = 0; i < 1300; ++i) deep += "(?:";
  deep += "a" + std::string(1300, ')');
  if (const auto nested = CmdlineRegex::compile(deep, &error)) CHECK(nested->matches("xa"));
}

TEST_CASE("named groups report the leftmost match's submatches", "[naming][regex]") {
  const CmdlineRegex regex = compile_ok("--(?P<key>[a-z]+)=(?P<value>\\S*)");
  REQUIRE(regex.group_count() == 2);
  CHECK(regex.group_index("key") == 1);
  CHECK(regex.group_index("value") == 2);
  CHECK(regex.group_index("other") == 0);
  std::vector<std::string_view> groups;
  REQUIRE(regex.matches("app --port=80 --host=x", groups));
  REQUIRE(groups.size() == 3);
  CHECK(groups[0] == "--port=80");
  CHECK(groups[1] == "port");
  CHECK(groups[2] == "80");

  const CmdlineRegex optional = compile_ok("run(?: (?P<opt>-v))?");
  REQUIRE(optional.matches("run fast", groups));
  CHECK(groups[1].empty());  // did not take part
  CHECK_FALSE(optional.matches("walk", groups));
  CHECK_FALSE(compile_ok("x").matches(""));

  // Leftmost-first, as Go: the first alternative that matches wins, not the longest.
  REQUIRE(compile_ok("(?P<a>x|xy)").matches("xy", groups));
  CHECK(groups[1] == "x");
}

TEST_CASE("hostile command lines cost one bounded pass and never overflow the stack", "[naming][regex]") {
  // Every user on the host chooses their own command line: 1 MiB of 'a' against patterns that
  // backtrack exponentially, or recurse per byte, in backtracking engines.
  const std::string text(1 << 20, 'a');
  for (const char* pattern : {".+", "(a+)+b", "(a|a)*b", "(.*)*x", "(?P<x>a*)*b", "^(\\w+\\s?)*$"}) {
    INFO(pattern);
    std::vector<std::string_view> groups;
    const CmdlineRegex regex = compile_ok(pattern);
    const bool expected = std::string(pattern) == ".+" || std::string(pattern) == "^(\\w+\\s?)*$";
    CHECK(regex.matches(text) == expected);
    CHECK(regex.matches(text, groups) == expected);
  }
}
