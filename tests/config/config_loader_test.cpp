#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "config/config.h"
#include "config_test_support.h"
#include "connector/event.h"
#include "http/web_config_loader.h"

using namespace procevents::config;
using namespace procevents::config::testing;
using procevents::naming::Unmatched;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> shipped_files() {
  std::vector<fs::path> files;
  for (const char* dir : {"config", "config/examples"}) {
    for (const auto& entry : fs::directory_iterator(source_path(dir))) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool has_warning(const LoadResult& r, const std::string& needle, int line) {
  const std::string prefix = "test.yml:" + std::to_string(line) + ":";
  return std::any_of(r.warnings.begin(), r.warnings.end(), [&](const std::string& w) {
    return w.rfind(prefix, 0) == 0 && w.find(needle) != std::string::npos;
  });
}

}  // namespace

TEST_CASE("every shipped config and example loads without errors or warnings", "[config]") {
  const std::vector<fs::path> files = shipped_files();
  CHECK(files.size() >= 7);
  for (const fs::path& file : files) {
    CAPTURE(file.string());
    const LoadResult r = load_config_file(file.string());
    CHECK(all_errors(r) == "");
    CHECK(all_warnings(r) == "");
    CHECK(r.config.has_value());
  }
}

TEST_CASE("the shipped procevents.yml spells out exactly the built-in defaults", "[config]") {
  const LoadResult r = load_config_file(source_path("config/procevents.yml"));
  REQUIRE(r.config);
  const Config& file = *r.config;
  const Config defaults = default_config();
  CHECK(file.max_groups == defaults.max_groups);
  CHECK(file.unmatched == defaults.unmatched);
  CHECK(file.lifetime_buckets == defaults.lifetime_buckets);
  CHECK(file.peak_memory_buckets == defaults.peak_memory_buckets);
  CHECK(file.taskstats == defaults.taskstats);
  CHECK(file.ring_capacity == defaults.ring_capacity);
  CHECK(file.max_processes == defaults.max_processes);
  CHECK(file.receive_buffer_bytes == defaults.receive_buffer_bytes);
  CHECK(file.events == defaults.events);
  CHECK(file.event_mask == defaults.event_mask);
  CHECK(file.attribution == defaults.attribution);
  CHECK(file.attribution_limits == defaults.attribution_limits);
  CHECK(file.read_cgroup == defaults.read_cgroup);
  CHECK(file.per_group == defaults.per_group);
  REQUIRE(file.process_names.size() == 1);
  CHECK(file.process_names[0].name.source == "{{.Comm}}");
}

TEST_CASE("the built-in defaults are the documented ones", "[config]") {
  const Config cfg = default_config();
  CHECK(cfg.max_groups == 500);
  CHECK(cfg.unmatched == Unmatched::kOther);
  CHECK(cfg.lifetime_buckets == std::vector<double>{0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400});
  CHECK(cfg.peak_memory_buckets == std::vector<double>{4194304, 16777216, 67108864, 268435456, 1073741824, 4294967296});
  CHECK(cfg.taskstats);
  CHECK(cfg.ring_capacity == 65536);
  CHECK(cfg.max_processes == 200000);
  CHECK(cfg.receive_buffer_bytes == 8388608);
  CHECK(cfg.events == std::vector<std::string>{"fork", "exec", "exit", "comm", "uid", "gid", "sid", "ptrace", "coredump"});
  CHECK(cfg.attribution.empty());
  CHECK(cfg.attribution_limits == std::map<std::string, std::size_t>{{"unit", 200}, {"container_id", 200}, {"pod_uid", 200}, {"user", 100}, {"namespace", 200}, {"pod", 200}, {"container", 200}});
  CHECK_FALSE(cfg.read_cgroup);
  CHECK(cfg.per_group.none());  // the series budget: per-host families stay per host
  std::uint32_t mask = 0;
  for (const std::string& e : cfg.events) mask |= procevents::connector::event_bit_for_name(e);
  CHECK(cfg.event_mask == mask);
  REQUIRE(cfg.process_names.size() == 1);
  CHECK(cfg.process_names[0].comm.empty());
  CHECK(cfg.process_names[0].exe.empty());
  REQUIRE(cfg.process_names[0].cmdline.size() == 1);
  CHECK(cfg.process_names[0].cmdline[0].pattern() == ".+");  // kernel threads left to `unmatched`
  CHECK(cfg.children);
}

TEST_CASE("every bad fixture fails with its file, line, column and reason", "[config]") {
  struct Row {
    const char* file;
    int line;
    int column;  // 0: not checked
    const char* needle;
  };
  const Row rows[] = {
      {"bad_attribution.yml", 1, 21, "unknown label \"node\""},
      {"bad_backreference.yml", 4, 9, "invalid escape sequence: \\1"},
      {"bad_bool.yml", 1, 14, "expected true or false"},
      {"bad_buckets.yml", 1, 23, "strictly increasing"},
      {"bad_buckets_negative.yml", 1, 20, "positive"},
      {"bad_capture_name.yml", 2, 11, "{{.Matches.Missing}} names no group"},
      {"bad_deep.yml", 0, 0, "nested too deeply"},
      {"bad_duplicate_key.yml", 2, 13, "max_groups: must be between 1 and 1000000"},
      {"bad_empty.yml", 0, 0, "file is empty"},
      {"bad_event.yml", 1, 16, "unknown event \"spawn\""},
      {"bad_limits.yml", 1, 28, "attribution_limits.unit: must be between 1"},
      {"bad_matcher_not_map.yml", 1, 17, "process_names[0]: expected a mapping"},
      {"bad_negative.yml", 1, 13, "must be between 1 and 1000000, not -5"},
      {"bad_no_selector.yml", 2, 5, "none of comm, exe or cmdline"},
      {"bad_non_integer.yml", 1, 16, "expected a whole number, not \"1.5\""},
      {"bad_not_mapping.yml", 1, 1, "top level must be a mapping"},
      {"bad_nul.yml", 2, 13, "NUL byte"},
      {"bad_only_unknown_keys.yml", 2, 5, "(unknown keys here: user, ...)"},
      {"bad_overlong_utf8.yml", 2, 12, "not valid UTF-8 (byte 0xc0)"},
      {"bad_pipeline_template.yml", 2, 11, "unsupported template action"},
      {"bad_regex.yml", 3, 15, "invalid regex \"(unclosed\""},
      {"bad_regex_too_large.yml", 2, 15, "invalid repetition size"},
      {"bad_ring.yml", 1, 16, "power of two"},
      {"bad_ring_small.yml", 1, 16, "between 16 and 16777216"},
      {"bad_string_for_list.yml", 2, 11, "expected a list, e.g. [bash]"},
      {"bad_syntax.yml", 0, 0, "YAML syntax error"},
      {"bad_template.yml", 2, 11, "unknown template variable {{.Bogus}}"},
      {"bad_too_big.yml", 2, 23, "receive_buffer_bytes: must be between 0 and 1073741824"},
      {"bad_type.yml", 1, 16, "process_names: expected a list of entries"},
      {"bad_unmatched.yml", 1, 12, "must be \"other\" or \"ignore\""},
      {"bad_unterminated_template.yml", 2, 11, "unterminated \"{{\""},
      {"bad_utf8.yml", 2, 12, "not valid UTF-8"},
  };
  std::set<std::string> covered;
  for (const Row& row : rows) {
    CAPTURE(row.file);
    covered.insert(row.file);
    const std::string path = fixture(row.file);
    const LoadResult r = load_config_file(path);
    CAPTURE(all_errors(r));
    REQUIRE_FALSE(r.config);
    REQUIRE_FALSE(r.errors.empty());
    const ConfigError& e = r.errors.front();
    CHECK(e.file == path);
    if (row.line) CHECK(e.line == row.line);
    if (row.column) CHECK(e.column == row.column);
    CHECK(e.message.find(row.needle) != std::string::npos);
    const std::string prefix = row.line ? path + ":" + std::to_string(row.line) + ":" : path + ":";
    CHECK(e.to_string().rfind(prefix, 0) == 0);
  }
  // A new bad_*.yml needs a row here.
  for (const auto& entry : fs::directory_iterator(source_path("tests/config/fixtures"))) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("bad_", 0) == 0) CHECK(covered.count(name) == 1);
  }
}

TEST_CASE("a file that cannot be read is one error without a position", "[config]") {
  const LoadResult missing = load_config_file("/nonexistent/procevents.yml");
  REQUIRE(missing.errors.size() == 1);
  CHECK_FALSE(missing.config);
  CHECK(missing.errors[0].line == 0);
  CHECK(missing.errors[0].to_string() == "/nonexistent/procevents.yml: cannot open: No such file or directory");

  const LoadResult directory = load_config_file(source_path("config"));
  REQUIRE(directory.errors.size() == 1);
  CHECK(directory.errors[0].message.find("directory") != std::string::npos);
}

TEST_CASE("every error in a file is reported, in file order", "[config]") {
  const LoadResult r = load_config_string(
      "max_groups: 0\n"
      "process_names:\n"
      "  - comm: [a]\n"
      "    cmdline: ['(']\n"
      "  - name: '{{.Nope}}'\n"
      "    comm: [b]\n"
      "events: [exec, forks]\n"
      "ring_capacity: 100\n",
      "test.yml");
  CAPTURE(all_errors(r));
  CHECK_FALSE(r.config);
  REQUIRE(r.errors.size() == 5);
  const int lines[] = {1, 4, 5, 7, 8};
  for (std::size_t i = 0; i < 5; ++i) CHECK(r.errors[i].line == lines[i]);
}

TEST_CASE("unknown keys and ignored settings are warnings with a position", "[config]") {
  struct Row {
    const char* yaml;
    const char* needle;
    int line;
  };
  const Row rows[] = {
      {"scrape_interval: 5\n", "unknown key \"scrape_interval\" ignored", 1},
      {"process_names:\n  - comm: [a]\n    threads: true\n", "process_names[0]: unknown key \"threads\" ignored", 3},
      {"process_names:\n  - comm: [a-very-long-process-name]\n", "longer than 15 characters", 2},
      {"ring_capacity: 16\n", "ring_capacity below 1024", 1},
      {"container_info: true\n", "unknown key \"container_info\"", 1},
      {"max_groups: 5\nmax_groups: 6\n", "\"max_groups\" is given again below; the last one is used", 1},
      {"events: [exec, exec]\n", "\"exec\" is listed twice", 1},
      {"events: [exit, nonzero_exit]\n", "nonzero_exit has no effect next to exit", 1},
      {"attribution: [unit, unit]\n", "\"unit\" is listed twice", 1},
      {"process_names: []\n", "process_names is empty: no process matches any entry (unmatched: other applies)", 1},
      {"unmatched: ignore\nprocess_names:\n", "(unmatched: ignore applies)", 2},
      {"max_groups: 5\n---\nmax_groups: 6\n", "only the first YAML document is used", 3},
      {"process_names:\n  - name: '{{.Comm}}-{{.PID}}'\n    comm: [a]\n", "{{.PID}} makes one group per process", 2},
      {"process_names:\n  - name: '{{.StartTime}}'\n    comm: [a]\n", "max_groups bounds them", 2},
  };
  for (const Row& row : rows) {
    CAPTURE(row.yaml);
    const LoadResult r = load_config_string(row.yaml, "test.yml");
    CAPTURE(all_warnings(r));
    CHECK(all_errors(r) == "");
    CHECK(has_warning(r, row.needle, row.line));
  }
  CHECK(load_config_string("max_groups: 5\nmax_groups: 6\n", "test.yml").config->max_groups == 6);
  CHECK(load_config_string("max_groups: 5\n---\nmax_groups: 6\n", "test.yml").config->max_groups == 5);
}

TEST_CASE("our own keys are read", "[config]") {
  const Config cfg = load_ok(
      "max_groups: 10\nunmatched: ignore\nlifetime_buckets: [0.5, 5, 1e3]\nring_capacity: 1024\n"
      "max_processes: 4096\nreceive_buffer_bytes: 0\nevents: [exec, nonzero_exit]\nattribution: [user, unit]\n"
      "attribution_limits: {unit: 3, user: 7}\nread_cgroup: yes\nchildren: false\n"
      "per_group: [identity, lifetime_buckets]\n");
  CHECK(cfg.max_groups == 10);
  CHECK_FALSE(cfg.children);
  CHECK(cfg.unmatched == Unmatched::kIgnore);
  CHECK(cfg.lifetime_buckets == std::vector<double>{0.5, 5, 1000});
  CHECK(cfg.ring_capacity == 1024);
  CHECK(cfg.max_processes == 4096);
  CHECK(cfg.receive_buffer_bytes == 0);
  CHECK(cfg.events == std::vector<std::string>{"exec", "nonzero_exit"});
  CHECK(cfg.event_mask == (procevents::connector::event_bit_for_name("exec") |
                           procevents::connector::event_bit_for_name("nonzero_exit")));
  CHECK(cfg.attribution == std::vector<std::string>{"user", "unit"});
  CHECK(cfg.attribution_limits.at("unit") == 3);
  CHECK(cfg.attribution_limits.at("user") == 7);
  CHECK(cfg.attribution_limits.at("container_id") == 200);  // untouched labels keep their default
  CHECK(cfg.read_cgroup);
  CHECK(cfg.per_group.has(procevents::config::GroupDetail::kIdentity));
  CHECK(cfg.per_group.has(procevents::config::GroupDetail::kLifetimeBuckets));
  CHECK_FALSE(cfg.per_group.has(procevents::config::GroupDetail::kThreads));
  CHECK(load_ok("per_group: [all]\n").per_group == procevents::config::GroupDetails::all());
}

TEST_CASE("out-of-range and mistyped values of our keys are errors", "[config]") {
  const Refusal rows[] = {
      {"max_groups: 0\n", "max_groups: must be between 1 and 1000000, not 0"},
      {"max_groups: 1000001\n", "must be between 1 and 1000000"},
      {"max_groups: 99999999999999999999999\n", "expected a whole number"},
      {"max_groups: [1]\n", "max_groups: expected a whole number"},
      {"max_groups:\n", "max_groups: expected a whole number"},
      {"max_processes: 15\n", "max_processes: must be between 16 and 4194304"},
      {"receive_buffer_bytes: -1\n", "receive_buffer_bytes: must be between 0"},
      {"ring_capacity: 33554432\n", "between 16 and 16777216"},
      {"ring_capacity: 65535\n", "power of two"},
      {"lifetime_buckets: []\n", "non-empty list"},
      {"lifetime_buckets: 5\n", "non-empty list"},
      {"lifetime_buckets: [1, 1]\n", "strictly increasing"},
      {"lifetime_buckets: [1, .inf]\n", "positive and finite"},
      {"lifetime_buckets: [.nan]\n", "positive and finite"},
      {"lifetime_buckets: [0, 1]\n", "positive and finite"},
      {"lifetime_buckets: [one]\n", "expected a number"},
      {"peak_memory_buckets: [1048576, 1048576]\n", "peak_memory_buckets: bounds must be strictly increasing"},
      {"peak_memory_buckets: []\n", "peak_memory_buckets: expected a non-empty list of upper bounds in bytes"},
      {"taskstats: maybe\n", "taskstats"},
      {"events: []\n", "at least one event"},
      {"events:\n", "at least one event"},
      {"events: exec\n", "expected a list, e.g. [exec]"},
      {"events: [[exec]]\n", "list items must be strings"},
      {"attribution: [pod_name]\n", "unknown label \"pod_name\""},
      {"attribution_limits: {unit: 100001}\n", "between 1 and 100000"},
      {"attribution_limits: {node: 5}\n", "unknown label \"node\""},
      {"attribution_limits: [unit]\n", "expected a mapping"},
      {"unmatched: [other]\n", "unmatched: expected a string"},
      {"read_cgroup: 2\n", "expected true or false"},
      {"read_cgroup: perhaps\n", "expected true or false"},
      {"per_group: [threads, lifetime]\n", "per_group: unknown option \"lifetime\" (known: threads, identity, coredumps, "
                                            "lifetime_buckets, peak_memory, storage, context_switches, delays, memory, faults, states, fds, or all)"},
      {"per_group: identity\n", "expected a list"},
      {"process_names:\n  - name: [a]\n    comm: [a]\n", "process_names[0].name: expected a string"},
      {"process_names:\n  - comm: {a: b}\n", "process_names[0].comm: expected a list of strings"},
      {"process_names:\n  - comm: []\n", "none of comm, exe or cmdline"},
      {"process_names:\n  - comm: [a]\n  - exe:\n", "process_names[1]: none of comm, exe or cmdline"},
      {"process_names: {name: a}\n", "expected a list of entries"},
      {"? [a, b]\n: c\n", "top level: keys must be plain names"},
      {"[a, b]\n", "top level must be a mapping"},
      {"just text\n", "top level must be a mapping"},
  };
  for (const Refusal& row : rows) {
    CAPTURE(row.input);
    const LoadResult r = load_config_string(row.input, "test.yml");
    CAPTURE(all_errors(r));
    CHECK_FALSE(r.config);
    REQUIRE_FALSE(r.errors.empty());
    CHECK(r.errors.front().message.find(row.reason) != std::string::npos);
    CHECK(r.errors.front().line >= 1);
  }
}

TEST_CASE("read_cgroup is forced on by cgroup templates and cgroup attribution, not by user", "[config]") {
  struct Row {
    const char* yaml;
    bool read_cgroup;
  };
  const Row rows[] = {
      {"max_groups: 5\n", false},
      {"attribution: [user]\n", false},
      {"attribution: [unit]\n", true},
      {"attribution: [container_id]\n", true},
      {"attribution: [pod_uid]\n", true},
      {"attribution: [namespace]\n", true},
      {"attribution: [container]\n", true},
      {"process_names:\n  - name: '{{.Comm}}-{{.Username}}'\n    comm: [a]\n", false},
      {"process_names:\n  - name: '{{.Unit}}'\n    comm: [a]\n", true},
      {"process_names:\n  - name: '{{.Cgroup}}'\n    comm: [a]\n", true},
      {"process_names:\n  - name: '{{.Cgroups}}'\n    comm: [a]\n", true},
      {"process_names:\n  - name: 'c-{{.ContainerID}}'\n    comm: [a]\n", true},
      {"process_names:\n  - name: '{{.PodUID}}'\n    comm: [a]\n", true},
      {"read_cgroup: true\n", true},
  };
  for (const Row& row : rows) {
    CAPTURE(row.yaml);
    CHECK(load_ok(row.yaml).read_cgroup == row.read_cgroup);
  }
}

TEST_CASE("process-exporter files load unchanged", "[config]") {
  // process-exporter's packaged all.yaml, its README examples and its Helm chart's default.
  const char* files[] = {
      "process_names:\n  - name: \"{{.Comm}}\"\n    cmdline:\n    - '.+'\n",
      "process_names:\n  - comm:\n    - bash\n  - exe:\n    - postgres\n    - /usr/local/bin/prometheus\n"
      "  - name: \"{{.ExeFull}}:{{.Matches.Cfgfile}}\"\n    exe:\n    - /usr/local/bin/process-exporter\n"
      "    cmdline:\n    - -config.path\\s+(?P<Cfgfile>\\S+)\n",
      "process_names:\n  - comm:\n    - chromium-browse\n    - bash\n    - prometheus\n    - gvim\n"
      "  - exe:\n    - /sbin/upstart\n    cmdline:\n    - --user\n    name: upstart:-user\n",
      "process_names:\n- name: \"{{.Comm}}\"\n  cmdline:\n  - '.+'\n",
      "process_names:\n  - name: \"{{.Username}}/{{.ExeBase}}\"\n    cmdline: ['^/opt/(?P<App>[a-z]+)/']\n  - name: ''\n    comm: [x]\n",
  };
  for (const char* text : files) {
    CAPTURE(text);
    const LoadResult r = load_config_string(text, "test.yml");
    CHECK(all_errors(r) == "");
    CHECK(all_warnings(r) == "");
  }
  // An empty name means process-exporter's default, {{.ExeBase}}.
  CHECK(load_ok(files[4]).process_names[1].name.source == "{{.ExeBase}}");
}

TEST_CASE("without process_names one group per comm, and an explicit empty list matches nothing", "[config]") {
  const Config absent = load_ok("max_groups: 7\n");
  REQUIRE(absent.process_names.size() == 1);
  CHECK(absent.process_names[0].name.source == "{{.Comm}}");
  CHECK(load_ok("process_names: []\n").process_names.empty());
  CHECK(load_ok("process_names:\n").process_names.empty());
}

TEST_CASE("the loader never throws and answers every input with a config or errors", "[config]") {
  std::vector<std::string> inputs = {
      std::string("\x00\x01", 2), "[[[[", "{a: {b: {c: [", "process_names: [{cmdline: [\"(\"]}]", "- - - -", "!!binary x",
      "&a [*a]", "a: *b", "process_names: &x [ {comm: [a]}, *x ]", "\xef\xbb\xbfmax_groups: 5\n", "%YAML 1.2\n---\nx: 1\n",
      "? |\n  a\n: b\n", "process_names:\n  - !!map {comm: [a]}\n", std::string(100000, 'a'), "'", "\"\\x\"",
      "process_names:\n  - cmdline: ['" + std::string(5000, '(') + "']\n",
      "process_names:\n  - cmdline: ['" + std::string(2000, 'a') + "{1000}']\n",
      // yaml-cpp 0.7's LoadAll never returns on this one (documents without progress, memory grows).
      "# x\n, y (z >= 6.6):{the cheapest\nevePts: [a, b]\nmax_groups: 200\n",
  };
  // Random bytes and random byte edits of the shipped files.
  std::mt19937 rng(20240611);
  for (int i = 0; i < 300; ++i) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    inputs.push_back(bytes);
  }
  const std::string_view syntax = "[]{}:-'\"&*!|>#\n \\(?{.P<";
  for (const fs::path& file : shipped_files()) {
    const std::string text = read_text(file);
    for (int i = 0; i < 100; ++i) {
      std::string edited = text;
      for (int k = 0; k < 3; ++k) edited[rng() % edited.size()] = syntax[rng() % syntax.size()];
      inputs.push_back(edited);
    }
  }
  for (const std::string& input : inputs) {
    CAPTURE(input.substr(0, 200));
    LoadResult r;
    CHECK_NOTHROW(r = load_config_string(input, "fuzz.yml"));
    CHECK(r.config.has_value() == r.errors.empty());
    procevents::http::WebConfigResult w;
    CHECK_NOTHROW(w = procevents::http::load_web_config_string(input, "fuzz.yml"));
    CHECK(w.config.has_value() == w.errors.empty());
  }
}

TEST_CASE("describe lists the active settings", "[config]") {
  const Config cfg = load_ok(
      "process_names:\n  - name: 'svc'\n    comm: [a]\n    exe: [/bin/b]\n    cmdline: ['-x']\nattribution: [unit]\n");
  const std::string text = describe(cfg);
  CHECK(text.find("config: test.yml") != std::string::npos);
  CHECK(text.find("- name: \"svc\"  comm: [a]  exe: [/bin/b]  cmdline: ['-x']") != std::string::npos);
  CHECK(text.find("attribution: [unit]") != std::string::npos);
  CHECK(text.find("read_cgroup: true") != std::string::npos);
  CHECK(describe(default_config()).find("- name: \"{{.Comm}}\"  cmdline: ['.+']") != std::string::npos);
  CHECK(describe(default_config()).find("children: true") != std::string::npos);
  CHECK(describe(default_config()).find("per_group: []   # per host: threads, identity, coredumps, lifetime_buckets, "
                                        "peak_memory, storage, context_switches, delays, memory, faults, states, fds") != std::string::npos);
  CHECK(describe(load_ok("per_group: [all]\n")).find("per_group: [threads, identity, coredumps, lifetime_buckets, "
                                                      "peak_memory, storage, context_switches, delays, memory, faults, states, fds]\n") != std::string::npos);
}
