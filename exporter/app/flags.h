// Command-line flags in the Prometheus ecosystem's style (--web.listen-address=..., --flag value).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/log.h"

namespace procevents::app {

inline constexpr const char* kDefaultListenAddress = ":9662";

struct Flags {
  std::vector<std::string> listen_addresses;  // empty -> {kDefaultListenAddress}
  std::string telemetry_path = "/metrics";
  std::string config_file;      // empty -> built-in defaults
  std::string web_config_file;  // empty -> no TLS, no auth
  bool config_check = false;    // --config.check: check both files, exit 0 or 2, serve nothing
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kLogfmt;
  std::string proc_root = "/proc";
  std::string pod_logs = "/var/log/pods";              // the kubelet's, for the namespace and pod labels
  std::string container_logs = "/var/log/containers";  // the kubelet's, for the container label
  bool self_check = true;
  bool tail = false;
  double tail_seconds = 0;
  std::string tail_events;  // comma-separated event names, empty = all
  std::string healthcheck_url;  // --healthcheck=URL: GET it, exit 0 on 200 (container HEALTHCHECK)
  bool process_exporter_names = false;  // --compat.process-exporter: its family names for the live families
  bool version = false;
  bool help = false;
};

/// Parses argv; nullopt with `error` set on an unknown flag or a bad value.
std::optional<Flags> parse_flags(int argc, const char* const* argv, std::string& error);
std::string usage_text();

/// "fork,exec,exit" -> event bits (connector::event_bits); false on an unknown name.
bool parse_event_list(const std::string& text, unsigned& mask, std::string& error);

}  // namespace procevents::app
