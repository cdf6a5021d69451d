#include "app/flags.h"

#include <cstdlib>
#include <string_view>

#include "connector/event.h"

namespace procevents::app {


bool parse_event_list(const std::string& text, unsigned& mask, std::string& error) {
  mask = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (name.empty()) continue;
    const std::uint32_t bit = connector::event_bit_for_name(name);
    if (bit == 0) {
      error = "unknown event \"" + std::string(name) + "\" (known: " + connector::event_names_list(", ") + ")";
      return false;
    }
    mask |= bit;
  }
  return true;
}

std::string usage_text() {
  // The events list comes from connector::kEventTypes.
  return R"(usage: procevents_exporter [flags]

Prometheus exporter for the Linux Process Events Connector: every fork, exec and exit.

Flags:
  --web.listen-address=ADDR   address to listen on; repeatable (default ":9662"; "127.0.0.1:0" picks a free port)
  --web.telemetry-path=PATH   path under which to expose metrics (default "/metrics")
  --web.config.file=FILE      exporter-toolkit web config: TLS and basic auth (bcrypt)
  --config.file=FILE          grouping and pipeline configuration (process-exporter compatible);
                              without it: one group per comm, built-in defaults
  --log.level=LEVEL           debug, info, warn or error (default info)
  --log.format=FORMAT         logfmt or json (default logfmt)
  --path.procfs=DIR           procfs mount point (default /proc)
  --no-self-check             skip the start-up check that a probe child's fork/exit events arrive
  --tail                      print one JSON object per event on stdout instead of serving metrics
  --tail.events=LIST          with --tail: comma-separated events ()" + connector::event_names_list(",") + R"()
  --tail.seconds=N            with --tail: stop after N seconds
  --healthcheck=URL           GET http(s)://127.0.0.1:PORT/healthz and exit 0 on 200 (for images without curl;
                              an http:// URL is retried over TLS when the server speaks only TLS)
  --version                   print the version and exit
  -h, --help                  print this help and exit

Needs CAP_NET_ADMIN (root) and the host's network, PID and user namespaces.
Signals: SIGHUP reloads --config.file and --web.config.file (the web config is also re-read when it or
a certificate file it names changes); SIGTERM/SIGINT stop cleanly.
)";
}

std::optional<Flags> parse_flags(int argc, const char* const* argv, std::string& error) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      flags.help = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      error = "unexpected argument \"" + std::string(arg) + "\"";
      return std::nullopt;
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string> value;
    if (const auto eq = name.find('='); eq != std::string_view::npos) {
      value = std::string(name.substr(eq + 1));
      name = name.substr(0, eq);
    }
    const auto boolean = [&](bool& target, bool set_to) {
      if (value) {
        error = "flag --" + std::string(name) + " takes no value";
        return false;
      }
      target = set_to;
      return true;
    };
    const auto take = [&](std::string& target) {
      if (!value) {
        if (i + 1 >= argc) {
          error = "flag --" + std::string(name) + " needs a value";
          return false;
        }
        value = argv[++i];
      }
      target = *value;
      return true;
    };
    std::string text;
    bool ok = true;
    if (name == "version") {
      ok = boolean(flags.version, true);
    } else if (name == "no-self-check") {
      ok = boolean(flags.self_check, false);
    } else if (name == "tail") {
      ok = boolean(flags.tail, true);
    } else if (name == "web.listen-address") {
      ok = take(text);
      if (ok) flags.listen_addresses.push_back(text);
    } else if (name == "web.telemetry-path") {
      ok = take(flags.telemetry_path);
      if (ok && (flags.telemetry_path.empty() || flags.telemetry_path[0] != '/')) {
        error = "--web.telemetry-path must start with '/'";
        ok = false;
      }
    } else if (name == "config.file") {
      ok = take(flags.config_file);
    } else if (name == "web.config.file") {
      ok = take(flags.web_config_file);
    } else if (name == "path.procfs") {
      ok = take(flags.proc_root);
    } else if (name == "healthcheck") {
      ok = take(flags.healthcheck_url);
    } else if (name == "tail.events") {
      ok = take(flags.tail_events);
    } else if (name == "log.level") {
      ok = take(text) && parse_log_level(text, flags.log_level);
      if (!ok && error.empty()) error = "--log.level must be debug, info, warn or error, not \"" + text + "\"";
    } else if (name == "log.format") {
      ok = take(text) && parse_log_format(text, flags.log_format);
      if (!ok && error.empty()) error = "--log.format must be logfmt or json, not \"" + text + "\"";
    } else if (name == "tail.seconds") {
      ok = take(text);
      if (ok) {
        char* end = nullptr;
        flags.tail_seconds = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !(flags.tail_seconds >= 0)) {
          error = "--tail.seconds must be a non-negative number, not \"" + text + "\"";
          ok = false;
        }
      }
    } else {
      error = "unknown flag --" + std::string(name);
      ok = false;
    }
    if (!ok) return std::nullopt;
  }
  if (flags.listen_addresses.empty()) flags.listen_addresses.push_back(kDefaultListenAddress);
  return flags;
}

}  // namespace procevents::app
