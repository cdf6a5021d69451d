#include <catch2/catch.hpp>

#include <crypt.h>

#include <filesystem>
#include <memory>

#include "config/config.h"
#include "config/group_namer.h"
#include "config/password.h"

using namespace procevents::config;
namespace fs = std::filesystem;

namespace {
std::string group(const Config& cfg, std::string_view comm, std::vector<std::string> argv = {},
                  std::string_view exe = "") {
  GroupNamer namer(cfg);
  ProcessIdentity p;
  p.comm = comm;
  p.cmdline = argv;
  p.exe = exe;
  p.username = "root";
  return namer.name_for(p).value_or("<ignored>");
}
Config load(const std::string& yaml) {
  LoadResult r = load_config_string(yaml, "test.yml");
  INFO((r.errors.empty() ? "" : r.errors[0].to_string()));
  REQUIRE(r.config);
  return *r.config;
}
}  // namespace

TEST_CASE("every shipped config and example loads", "[config]") {
  std::size_t files = 0;
  for (const fs::path& dir : {fs::path(PROCEVENTS_SOURCE_DIR "/config"), fs::path(PROCEVENTS_SOURCE_DIR "/config/examples")}) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      CAPTURE(entry.path().string());
      const LoadResult r = load_config_file(entry.path().string());
      CHECK(r.errors.empty());
      ++files;
    }
  }
  CHECK(files >= 5);
}

TEST_CASE("every bad fixture fails with a file, line and column", "[config]") {
  struct Row {
    const char* file;
    int line;
    const char* needle;
  };
  const Row rows[] = {
      {"bad_regex.yml", 3, "invalid regex"},        {"bad_template.yml", 2, "unknown template variable"},
      {"bad_negative.yml", 1, "between"},           {"bad_ring.yml", 1, "power of two"},
      {"bad_type.yml", 1, "expected a list"},       {"bad_empty.yml", 0, "empty"},
      {"bad_utf8.yml", 2, "UTF-8"},                 {"bad_syntax.yml", 0, "YAML syntax error"},
      {"bad_pid_template.yml", 2, "cardinality"},   {"bad_buckets.yml", 1, "increasing"},
      {"bad_event.yml", 1, "unknown event"},        {"bad_no_selector.yml", 2, "none of comm"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.file);
    const std::string path = std::string(PROCEVENTS_SOURCE_DIR "/tests/config/fixtures/") + row.file;
    const LoadResult r = load_config_file(path);
    REQUIRE_FALSE(r.config);
    REQUIRE_FALSE(r.errors.empty());
    const ConfigError& e = r.errors.front();
    CAPTURE(e.to_string());
    CHECK(e.file == path);
    if (row.line) CHECK(e.line == row.line);
    CHECK(e.to_string().find(row.needle) != std::string::npos);
  }
  CHECK_FALSE(load_config_file("/nonexistent/procevents.yml").config);
}

TEST_CASE("unknown keys are warnings, not errors", "[config]") {
  const LoadResult r = load_config_string("process_names:\n  - comm: [a]\n    unknown_key: 1\nscrape_interval: 5\n", "t.yml");
  REQUIRE(r.config);
  CHECK(r.warnings.size() == 2);
}

TEST_CASE("default: one group per comm", "[config]") {
  CHECK(group(default_config(), "ls") == "ls");
  CHECK(group(default_config(), "") == "unknown");
}

TEST_CASE("matchers: first match wins, AND across kinds, templates and named captures", "[config]") {
  const Config cfg = load(R"(
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
)");
  CHECK(group(cfg, "python3", {"/usr/bin/python3", "app.py", "--config", "/etc/app.yml"}) == "python3:/etc/app.yml");
  CHECK(group(cfg, "python3", {"/usr/local/bin/python3", "--config", "x"}) == "other");  // exe has a '/': full compare
  CHECK(group(cfg, "bash", {"bash"}) == "shells");
  CHECK(group(cfg, "nginx", {"/usr/sbin/nginx", "-g", "daemon off;"}) == "nginx-root");
  CHECK(group(cfg, "java", {"java", "-jar", "x.jar"}) == "java");
  CHECK(group(cfg, "sleep", {"sleep", "1"}) == "other");
  const auto predeclared = GroupNamer(cfg).predeclared_groups();
  REQUIRE(predeclared.size() == 1);
  CHECK(predeclared[0] == "shells");
}

TEST_CASE("unmatched: ignore drops unmatched processes", "[config]") {
  const Config cfg = load("process_names:\n  - comm: [bash]\nunmatched: ignore\n");
  CHECK(group(cfg, "bash", {"bash"}) == "bash");  // default name {{.ExeBase}}
  CHECK(group(cfg, "ls", {"ls"}) == "<ignored>");
}

TEST_CASE("our own keys are read and validated", "[config]") {
  const Config cfg = load("max_groups: 10\nring_capacity: 1024\nevents: [exec, exit]\nattribution: [unit]\n"
                          "lifetime_buckets: [0.5, 5]\nattribution_limits: {unit: 3}\n");
  CHECK(cfg.max_groups == 10);
  CHECK(cfg.ring_capacity == 1024);
  CHECK(cfg.event_mask == (0x2u | 0x80000000u));
  CHECK(cfg.attribution == std::vector<std::string>{"unit"});
  CHECK(cfg.lifetime_buckets == std::vector<double>{0.5, 5});
  CHECK(cfg.attribution_limits.at("unit") == 3);
  CHECK(GroupNamer(load("process_names:\n  - name: '{{.Unit}}'\n    comm: [a]\n")).uses_cgroup());
}

TEST_CASE("arbitrary bytes never throw out of the loader", "[config]") {
  const char* inputs[] = {"\x00\x01", "[[[[", "{a: {b: {c: [", "process_names: [{cmdline: [\"(\"]}]", "- - - -", "!!binary x"};
  for (const char* input : inputs) CHECK_NOTHROW(load_config_string(input, "fuzz"));
}

TEST_CASE("web config: TLS, headers and bcrypt users", "[config]") {
  const char* good_hash = "$2y$10$abcdefghijklmnopqrstuuYx9Y7n1Jw5rY5m5m5m5m5m5m5m5m5m5";
  std::string yaml = std::string("basic_auth_users:\n  alice: '") + good_hash + "'\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n";
  WebConfigResult r = load_web_config_string(yaml, "web.yml");
  REQUIRE(r.config);
  CHECK(r.config->basic_auth_users.at("alice") == good_hash);
  CHECK(r.config->headers.at("X-Frame-Options") == "deny");
  CHECK_FALSE(load_web_config_string("basic_auth_users:\n  bob: plaintext\n", "web.yml").config);
  CHECK_FALSE(load_web_config_string("tls_server_config:\n  cert_file: a.pem\n", "web.yml").config);
  CHECK_FALSE(load_web_config_string("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Maybe\n", "w").config);
  CHECK(load_web_config_string("", "web.yml").config);  // empty = no TLS, no auth
}

TEST_CASE("bcrypt passwords verify, wrong ones and garbage hashes do not", "[config]") {
  for (const char* prefix : {"$2b$", "$2y$"}) {
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    REQUIRE(crypt_gensalt_rn(prefix, 4, nullptr, 0, salt, sizeof salt));
    auto data = std::make_unique<crypt_data>();
    const std::string hash = crypt_r("s3cret", salt, data.get());
    REQUIRE(looks_like_bcrypt(hash));
    CHECK(verify_password("s3cret", hash));
    CHECK_FALSE(verify_password("s3cret ", hash));
    CHECK_FALSE(verify_password("", hash));
  }
  CHECK_FALSE(verify_password("x", "not a hash"));
  CHECK_FALSE(verify_password("x", "$2y$10$tooshort"));
}
