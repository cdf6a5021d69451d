// NameTemplate: process-exporter's {{.Variable}} names, parsed once at load.
#include <catch2/catch.hpp>

#include <string>

#include "naming/name_template.h"
#include "support/refusal.h"

using procevents::testing::Refusal;
using procevents::naming::NameTemplate;
using Kind = NameTemplate::Kind;

TEST_CASE("variables, literals and Go's whitespace trimming parse into parts", "[naming][template]") {
  std::string error;
  auto t = NameTemplate::parse("{{.Comm}}:{{ .Matches.Cfg }}-x", &error);
  REQUIRE(t);
  REQUIRE(t->parts.size() == 4);
  CHECK(t->parts[0].kind == Kind::kComm);
  CHECK(t->parts[1].kind == Kind::kLiteral);
  CHECK(t->parts[1].text == ":");
  CHECK(t->parts[2].kind == Kind::kMatch);
  CHECK(t->parts[2].text == "Cfg");
  CHECK(t->parts[3].text == "-x");
  CHECK(t->has_variables());
  CHECK_FALSE(t->needs_cgroup());

  auto trimmed = NameTemplate::parse("a  {{- .ExeBase -}}  b", &error);
  REQUIRE(trimmed);
  REQUIRE(trimmed->parts.size() == 3);
  CHECK(trimmed->parts[0].text == "a");
  CHECK(trimmed->parts[1].kind == Kind::kExeBase);
  CHECK(trimmed->parts[2].text == "b");

  auto plain = NameTemplate::parse("shells", &error);
  REQUIRE(plain);
  CHECK_FALSE(plain->has_variables());

  for (const char* cgroup : {"{{.Cgroup}}", "{{.Cgroups}}", "{{.Unit}}", "{{.ContainerID}}", "{{.PodUID}}"}) {
    auto c = NameTemplate::parse(cgroup, &error);
    REQUIRE(c);
    CHECK(c->needs_cgroup());
  }
}

TEST_CASE("unsupported templates are errors that say why", "[naming][template]") {
  const Refusal rows[] = {
      {"{{.Comm", "unterminated"},
      {"{{.Matches}}", "needs a group name"},
      {"{{.Matches.}}", "malformed"},
      {"{{.Nope}}", "unknown template variable"},
      {"{{.Comm | printf}}", "unsupported template action"},
      {"{{if .Comm}}x{{end}}", "unsupported template action"},
      {"{{.Cwd}}", "not supported"},
  };
  for (const Refusal& row : rows) {
    std::string error;
    INFO(row.input);
    CHECK_FALSE(NameTemplate::parse(row.input, &error));
    CHECK_THAT(error, Catch::Contains(row.reason));
  }
}
