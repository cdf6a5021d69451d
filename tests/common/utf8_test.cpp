// UTF-8 checks: config files must be UTF-8; label values are made UTF-8.
#include <catch2/catch.hpp>

#include <string>

#include "common/utf8.h"

using procevents::append_valid_utf8;
using procevents::find_invalid_utf8;

TEST_CASE("strict UTF-8 validation finds the first bad byte", "[common][utf8]") {
  constexpr auto npos = std::string::npos;
  struct Row {
    std::string text;
    std::size_t bad;
  };
  const Row rows[] = {
      {"", npos},
      {"plain ascii", npos},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", npos},
      {"a\xc3", 1},                  // truncated two-byte sequence
      {"ab\xc0\xaf", 2},             // overlong '/'
      {"\xe0\x80\xaf", 0},           // overlong three-byte
      {"x\xed\xa0\x80", 1},          // surrogate U+D800
      {"\xf4\x90\x80\x80", 0},       // above U+10FFFF
      {"ok\x80", 2},                 // stray continuation byte
      {"\xff", 0},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    CHECK(find_invalid_utf8(row.text) == row.bad);
  }
}

TEST_CASE("invalid bytes become U+FFFD, valid text is copied unchanged", "[common][utf8]") {
  std::string out = "x:";
  append_valid_utf8(out, "caf\xc3\xa9");
  CHECK(out == "x:caf\xc3\xa9");
  out.clear();
  append_valid_utf8(out, "a\xff" "b");
  CHECK(out == "a\xef\xbf\xbd" "b");
  out.clear();
  append_valid_utf8(out, "\xc3");
  CHECK(out == "\xef\xbf\xbd");
  CHECK(find_invalid_utf8(out) == std::string::npos);
}
