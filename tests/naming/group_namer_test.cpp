// GroupNamer: process-exporter's matching rules and name rendering, table-driven.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/utf8.h"
#include "config/config_test_support.h"
#include "naming/group_namer.h"

using namespace procevents::naming;
using procevents::config::Config;
using procevents::config::default_config;
using procevents::config::testing::load_ok;

namespace {
struct Process {
  Process(std::string comm_, std::vector<std::string> argv_ = {}, std::string exe_ = "", std::string username_ = "root",
          std::string cgroup_ = "", std::string unit_ = "", std::string container_id_ = "", std::string pod_uid_ = "")
      : comm(std::move(comm_)), argv(std::move(argv_)), exe(std::move(exe_)), username(std::move(username_)),
        cgroup(std::move(cgroup_)), unit(std::move(unit_)), container_id(std::move(container_id_)),
        pod_uid(std::move(pod_uid_)) {}
  std::string comm;
  std::vector<std::string> argv;
  std::string exe, username, cgroup, unit, container_id, pod_uid;
};

std::string group(const Config& config, const Process& p) {
  ProcessIdentity id;
  id.comm = p.comm;
  id.cmdline = p.argv;
  id.exe = p.exe;
  id.username = p.username;
  id.cgroup = p.cgroup;
  id.unit = p.unit;
  id.container_id = p.container_id;
  id.pod_uid = p.pod_uid;
  return GroupNamer(config).name_for(id).value_or("<ignored>");
}
}  // namespace

TEST_CASE("the default names one group per comm", "[naming][namer]") {
  CHECK(group(default_config(), {"ls"}) == "ls");
  CHECK(group(default_config(), {""}) == "unknown");
}

TEST_CASE("first match wins, selectors AND together, templates render", "[naming][namer]") {
  const Config config = load_ok(R"(
process_names:
  - name: "{{.ExeBase}}:{{.Matches.Cfg}}"
    exe: [/usr/bin/python3]
    cmdline: ['--config\s+(?P<Cfg>\S+)']
  - name: "shells"
    comm: [bash, zsh]
  - name: "{{.Comm}}-{{.Username}}"
    exe: [nginx]
  - name: "{{.ExeFull}}"
    cmdline: ['(?i)^JAVA ']
  - name: "{{.Unit}}/{{.ContainerID}}/{{.PodUID}}"
    comm: [cg]
)");
  struct Row {
    Process process;
    const char* group;
  };
  const Row rows[] = {
      {{"python3", {"/usr/bin/python3", "app.py", "--config", "/etc/app.yml"}}, "python3:/etc/app.yml"},
      {{"python3", {"/usr/local/bin/python3", "--config", "x"}}, "other"},  // a '/' compares the full path
      {{"python3", {"python3", "--config", "x"}, "/usr/bin/python3"}, "python3:x"},  // exe link counts too
      {{"bash", {"bash"}}, "shells"},
      {{"zsh", {}}, "shells"},
      {{"nginx", {"/usr/sbin/nginx", "-g", "daemon off;"}}, "nginx-root"},  // basename of argv[0]
      {{"nginx", {"x"}, "/usr/sbin/nginx", "www"}, "nginx-www"},          // basename of exe
      {{"java", {"java", "-jar", "x.jar"}}, "java"},                       // ExeFull falls back to argv[0]
      {{"sleep", {"sleep", "1"}}, "other"},
      {{"cg", {}, "", "root", "/system.slice/a.service", "a.service", "c0ffee", "pod-1"}, "a.service/c0ffee/pod-1"},
  };
  for (const Row& row : rows) {
    INFO(row.process.comm << " " << (row.process.argv.empty() ? "" : row.process.argv[0]));
    CHECK(group(config, row.process) == row.group);
  }
  const auto predeclared = GroupNamer(config).predeclared_groups();
  CHECK(predeclared == std::vector<std::string>{"shells"});
  CHECK(GroupNamer(config).uses_cgroup());
  CHECK_FALSE(GroupNamer(default_config()).uses_cgroup());
}

TEST_CASE("unmatched: ignore drops processes no entry matches", "[naming][namer]") {
  const Config config = load_ok("process_names:\n  - comm: [bash]\nunmatched: ignore\n");
  CHECK(group(config, {"bash", {"bash"}}) == "bash");  // default name {{.ExeBase}}
  CHECK(group(config, {"ls", {"ls"}}) == "<ignored>");
}

TEST_CASE("every cmdline regex must match and a later capture overrides an earlier one", "[naming][namer]") {
  const Config config = load_ok(R"(
process_names:
  - name: "{{.Matches.v}}"
    cmdline: ['a=(?P<v>\w+)', 'b=(?P<v>\w+)']
)");
  CHECK(group(config, {"x", {"x", "a=1", "b=2"}}) == "2");
  CHECK(group(config, {"x", {"x", "a=1"}}) == "other");
}

TEST_CASE("names are valid UTF-8 and never empty", "[naming][namer]") {
  CHECK(group(default_config(), {"bad\xff" "name"}) == "bad\xef\xbf\xbd" "name");
  const Config config = load_ok("process_names:\n  - name: '{{.Matches.v}}'\n    cmdline: ['^x(?P<v>y?)']\n");
  CHECK(group(config, {"xcomm", {"x"}}) == "xcomm");  // an empty rendering falls back to comm
  CHECK(group(config, {"", {"x"}}) == "unknown");
  const std::string hostile = group(config, {"c", {"x\xc0\xafy"}});
  CHECK(procevents::find_invalid_utf8(hostile) == std::string::npos);
}
