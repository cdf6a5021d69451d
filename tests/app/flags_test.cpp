// Command-line flags: every flag, both value spellings, defaults, and the errors bad input gets.
#include <catch2/catch.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "app/flags.h"
#include "connector/event.h"

using namespace procevents;
using namespace procevents::app;

namespace {

std::optional<Flags> parse(std::initializer_list<const char*> args, std::string& error) {
  std::vector<const char*> argv{"procevents_exporter"};
  argv.insert(argv.end(), args);
  error.clear();
  return parse_flags(static_cast<int>(argv.size()), argv.data(), error);
}

std::optional<Flags> parse(std::initializer_list<const char*> args) {
  std::string error;
  auto flags = parse(args, error);
  INFO(error);
  CHECK(error.empty());
  return flags;
}

/// Parsing must fail with an error that contains `expected`.
void refused(std::initializer_list<const char*> args, const std::string& expected) {
  std::string error;
  const auto flags = parse(args, error);
  CAPTURE(expected, error);
  CHECK_FALSE(flags);
  CHECK(error.find(expected) != std::string::npos);
}

}  // namespace

TEST_CASE("no flags: the defaults", "[app]") {
  const auto flags = parse({});
  REQUIRE(flags);
  CHECK(flags->listen_addresses == std::vector<std::string>{kDefaultListenAddress});
  CHECK(flags->telemetry_path == "/metrics");
  CHECK(flags->config_file.empty());
  CHECK(flags->web_config_file.empty());
  CHECK(flags->log_level == LogLevel::kInfo);
  CHECK(flags->proc_root == "/proc");
  CHECK(flags->pod_logs == "/var/log/pods");
  CHECK(flags->container_logs == "/var/log/containers");
  CHECK_FALSE(flags->config_check);
  CHECK(flags->self_check);
  CHECK_FALSE(flags->tail);
  CHECK(flags->tail_seconds == 0);
  CHECK(flags->tail_events.empty());
  CHECK(flags->healthcheck_url.empty());
  CHECK_FALSE(flags->version);
  CHECK_FALSE(flags->help);
}

TEST_CASE("every flag with a value, as --flag=value and as --flag value", "[app]") {
  for (const bool joined : {true, false}) {
    CAPTURE(joined);
    std::vector<std::string> storage;
    const auto add = [&](const char* name, const char* value) {
      if (joined) {
        storage.push_back(std::string(name) + "=" + value);
      } else {
        storage.push_back(name);
        storage.push_back(value);
      }
    };
    add("--web.listen-address", "127.0.0.1:9000");
    add("--web.listen-address", "[::1]:9001");
    add("--web.telemetry-path", "/probe");
    add("--config.file", "/etc/procevents.yml");
    add("--web.config.file", "/etc/web.yml");
    add("--log.level", "debug");
    add("--path.procfs", "/host/proc");
    add("--path.pod-logs", "/host/pods");
    add("--path.container-logs", "/host/containers");
    add("--tail.events", "fork,exit");
    add("--tail.seconds", "2.5");
    add("--healthcheck", "http://127.0.0.1:9662/healthz");
    std::vector<const char*> argv{"procevents_exporter"};
    for (const std::string& arg : storage) argv.push_back(arg.c_str());
    std::string error;
    const auto flags = parse_flags(static_cast<int>(argv.size()), argv.data(), error);
    INFO(error);
    REQUIRE(flags);
    CHECK(flags->listen_addresses == std::vector<std::string>{"127.0.0.1:9000", "[::1]:9001"});
    CHECK(flags->telemetry_path == "/probe");
    CHECK(flags->config_file == "/etc/procevents.yml");
    CHECK(flags->web_config_file == "/etc/web.yml");
    CHECK(flags->log_level == LogLevel::kDebug);
    CHECK(flags->proc_root == "/host/proc");
    CHECK(flags->pod_logs == "/host/pods");
    CHECK(flags->container_logs == "/host/containers");
    CHECK(flags->tail_events == "fork,exit");
    CHECK(flags->tail_seconds == 2.5);
    CHECK(flags->healthcheck_url == "http://127.0.0.1:9662/healthz");
  }
}

TEST_CASE("boolean flags and help", "[app]") {
  const auto flags = parse({"--version", "--no-self-check", "--tail", "--config.check", "-h"});
  REQUIRE(flags);
  CHECK(flags->version);
  CHECK(flags->config_check);
  CHECK_FALSE(flags->self_check);
  CHECK(flags->tail);
  CHECK(flags->help);
  CHECK(parse({"--help"})->help);
}

TEST_CASE("every log level by name", "[app]") {
  CHECK(parse({"--log.level=debug"})->log_level == LogLevel::kDebug);
  CHECK(parse({"--log.level=info"})->log_level == LogLevel::kInfo);
  CHECK(parse({"--log.level=warn"})->log_level == LogLevel::kWarn);
  CHECK(parse({"--log.level=error"})->log_level == LogLevel::kError);
  LogLevel level = LogLevel::kWarn;
  CHECK_FALSE(parse_log_level("INFO", level));
  CHECK_FALSE(parse_log_level("", level));
  CHECK(level == LogLevel::kWarn);  // untouched on failure
}

TEST_CASE("log formats by name, logfmt by default", "[app]") {
  CHECK(parse({})->log_format == LogFormat::kLogfmt);
  CHECK(parse({"--log.format=json"})->log_format == LogFormat::kJson);
  CHECK(parse({"--log.format", "logfmt"})->log_format == LogFormat::kLogfmt);
  refused({"--log.format=text"}, "--log.format must be logfmt or json, not \"text\"");
}

TEST_CASE("bad flags and bad values are refused with a reason", "[app]") {
  refused({"--no-such-flag"}, "unknown flag --no-such-flag");
  refused({"stray"}, "unexpected argument \"stray\"");
  refused({"-v"}, "unexpected argument \"-v\"");
  refused({"--version=yes"}, "flag --version takes no value");
  refused({"--tail=1"}, "flag --tail takes no value");
  refused({"--no-self-check=false"}, "flag --no-self-check takes no value");
  refused({"--config.file"}, "flag --config.file needs a value");
  refused({"--web.listen-address"}, "flag --web.listen-address needs a value");
  refused({"--web.telemetry-path=metrics"}, "--web.telemetry-path must start with '/'");
  refused({"--web.telemetry-path="}, "--web.telemetry-path must start with '/'");
  refused({"--log.level=verbose"}, "--log.level must be debug, info, warn or error, not \"verbose\"");
  refused({"--tail.seconds=-1"}, "--tail.seconds must be a non-negative number");
  refused({"--tail.seconds=soon"}, "--tail.seconds must be a non-negative number");
  refused({"--tail.seconds="}, "--tail.seconds must be a non-negative number");
  refused({"--tail.seconds=nan"}, "--tail.seconds must be a non-negative number");
  refused({"--tail.seconds=3s"}, "--tail.seconds must be a non-negative number");
}

TEST_CASE("a value that looks like a flag is taken as the value", "[app]") {
  const auto flags = parse({"--config.file", "--tail"});
  REQUIRE(flags);
  CHECK(flags->config_file == "--tail");
  CHECK_FALSE(flags->tail);
}

TEST_CASE("the usage text names every flag", "[app]") {
  const std::string usage = usage_text();
  for (const char* flag : {"--web.listen-address", "--web.telemetry-path", "--web.config.file", "--config.file",
                           "--log.level", "--log.format", "--path.procfs", "--no-self-check", "--tail", "--tail.events",
                           "--tail.seconds", "--healthcheck", "--version", "--help", "--config.check",
                           "--path.pod-logs", "--path.container-logs"}) {
    CAPTURE(flag);
    CHECK(usage.find(flag) != std::string::npos);
  }
}

TEST_CASE("parse_event_list: names to connector bits, empty items skipped, unknown refused", "[app]") {
  unsigned mask = 123;
  std::string error;
  REQUIRE(parse_event_list("", mask, error));
  CHECK(mask == 0);
  REQUIRE(parse_event_list("fork,exec,,exit,", mask, error));
  CHECK(mask == (connector::event_bits::kFork | connector::event_bits::kExec | connector::event_bits::kExit));
  REQUIRE(parse_event_list("nonzero_exit", mask, error));
  CHECK(mask == connector::event_bits::kNonzeroExit);
  CHECK_FALSE(parse_event_list("fork,forks", mask, error));
  CHECK(error.find("unknown event \"forks\"") != std::string::npos);
}
