// GroupNamer: process-exporter's matching rules and name rendering, table-driven.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
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
  Process(std::string comm_, std::vector<std::string> argv_ = {}, std::string username_ = "root",
          std::string cgroup_ = "", std::string unit_ = "", std::string container_id_ = "", std::string pod_uid_ = "")
      : comm(std::move(comm_)), argv(std::move(argv_)), username(std::move(username_)),
        cgroup(std::move(cgroup_)), unit(std::move(unit_)), container_id(std::move(container_id_)),
        pod_uid(std::move(pod_uid_)) {}
  std::string comm;
  std::vector<std::string> argv;
  std::string username, cgroup, unit, container_id, pod_uid;
  std::int32_t pid = 0;
  std::int64_t start_time_ns = 0;
};

std::string group(const Config& config, const Process& p) {
  ProcessIdentity id;
  id.comm = p.comm;
  id.cmdline = p.argv;
  id.username = p.username;
  id.cgroup = p.cgroup;
  id.unit = p.unit;
  id.container_id = p.container_id;
  id.pod_uid = p.pod_uid;
  id.pid = p.pid;
  id.start_time_ns = p.start_time_ns;
  const GroupNamer namer(config);
  // Unmatched processes: the aggregator applies `unmatched` (and children, which needs the parent).
  return namer.name_for(id).value_or(namer.unmatched() == Unmatched::kOther ? "other" : "<ignored>");
}
}  // namespace

TEST_CASE("the default names one group per comm, kernel threads aside", "[naming][namer]") {
  CHECK(group(default_config(), {"ls", {"ls", "-l"}}) == "ls");
  CHECK(group(default_config(), {"", {"x"}}) == "unknown");
  // No command line: a kernel thread, whose comm changes with its work; it is left to `unmatched`.
  CHECK(group(default_config(), {"kworker/u8:0-ev"}) == "other");
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
      {{"python3", {"python3", "--config", "x"}}, "other"},  // argv[0], not the exe link, as process-exporter
      {{"bash", {"bash"}}, "shells"},
      {{"zsh", {}}, "shells"},
      {{"nginx", {"/usr/sbin/nginx", "-g", "daemon off;"}}, "nginx-root"},  // basename of argv[0]
      {{"nginx", {"nginx", "-g"}, "www"}, "nginx-www"},                    // argv[0] without a path
      {{"nginx", {"nginx: worker process"}}, "other"},                     // argv rewritten by the program
      {{"java", {"java", "-jar", "x.jar"}}, "java"},                       // ExeFull falls back to argv[0]
      {{"sleep", {"sleep", "1"}}, "other"},
      {{"cg", {}, "root", "/system.slice/a.service", "a.service", "c0ffee", "pod-1"}, "a.service/c0ffee/pod-1"},
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
  CHECK(group(default_config(), {"bad\xff" "name", {"x"}}) == "bad\xef\xbf\xbd" "name");
  const Config config = load_ok("process_names:\n  - name: '{{.Matches.v}}'\n    cmdline: ['^x(?P<v>y?)']\n");
  CHECK(group(config, {"xcomm", {"x"}}) == "xcomm");  // an empty rendering falls back to comm
  CHECK(group(config, {"", {"x"}}) == "unknown");
  const std::string hostile = group(config, {"c", {"x\xc0\xafy"}});
  CHECK(procevents::find_invalid_utf8(hostile) == std::string::npos);
}

TEST_CASE("exe names and selectors come from argv[0], as in process-exporter", "[naming][namer]") {
  const Config config = load_ok("process_names:\n  - name: '{{.ExeBase}}|{{.ExeFull}}'\n    cmdline: ['']\n");
  struct Row {
    Process process;
    const char* group;
  };
  const Row rows[] = {
      {{"python3.11", {"python", "x.py"}}, "python|python"},  // started through a symlink: the name it was given
      {{"python3.11", {"/usr/bin/python3.11"}}, "python3.11|/usr/bin/python3.11"},
      {{"sleep", {"sshd: root@pts/0"}}, "0|sshd: root@pts/0"},  // Go's filepath.Base of a rewritten argv
      {{"nginx", {"nginx: worker process"}}, "nginx: worker process|nginx: worker process"},
      {{"kthreadd", {}}, "kthreadd|kthreadd"},  // no argv: comm
      {{"x", {""}}, ".|"},                       // filepath.Base("") is "."; ExeFull is argv[0] itself
      {{"x", {"/usr/bin/"}}, "bin|/usr/bin/"},
      {{"x", {"///"}}, "/|///"},
  };
  for (const Row& row : rows) {
    INFO(row.process.comm);
    CHECK(group(config, row.process) == row.group);
  }
  const Config exe = load_ok("process_names:\n  - name: a\n    exe: [/usr/lib/systemd/systemd]\n  - name: b\n    exe: [python, '0']\n");
  CHECK(group(exe, {"systemd", {"/usr/lib/systemd/systemd", "--user"}}) == "a");
  CHECK(group(exe, {"systemd", {"/lib/systemd/systemd"}}) == "other");  // merged /usr: argv[0] is what it was started as
  CHECK(group(exe, {"python3.11", {"python"}}) == "b");
  CHECK(group(exe, {"python3.11", {"/usr/bin/python3.11"}}) == "other");
  CHECK(group(exe, {"sleep", {"sshd: root@pts/0"}}) == "b");
  CHECK(group(exe, {"python", {}}) == "other");  // no argv: no exe selector matches
}

TEST_CASE("{{.PID}} and {{.StartTime}} render as process-exporter prints them", "[naming][namer]") {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  const Config config = load_ok("process_names:\n  - name: '{{.PID}}@{{.StartTime}}'\n    comm: [x]\n");
  Process p{"x", {"x"}};
  p.pid = 4242;
  p.start_time_ns = 1'796'165'173'120'000'000;  // /proc start times have 10 ms ticks
  CHECK(group(config, p) == "4242@2026-12-01 22:46:13.12 +0000 UTC");
  p.start_time_ns = 1'000'000'000;
  CHECK(group(config, p) == "4242@1970-01-01 00:00:01 +0000 UTC");
  p.start_time_ns = 0;  // unknown (named from an exit record)
  CHECK(group(config, p) == "4242@");
  // One group per process: the same program under another pid is another group.
  Process other = p;
  other.pid = 4243;
  CHECK(group(config, other) != group(config, p));
  CHECK(group(default_config(), other) == group(default_config(), p));
}
