#include "app/flags.h"

#include <algorithm>
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

namespace {

/// Applies a flag's value to `flags`; false with `error` set when the value is refused.
using FlagSetter = bool (*)(Flags& flags, const std::string& value, std::string& error);

struct FlagSpec {
  std::string_view name;        // without the leading "--"
  std::string_view value_name;  // in the usage text ("ADDR"); empty: a boolean flag, which takes no value
  std::string_view help;        // lines after the first are indented under it
  FlagSetter set;
};

/// Every flag but -h/--help, in the usage text's order: parse_flags and usage_text both read it.
const FlagSpec kFlags[] = {
    {"web.listen-address", "ADDR",
     "address to listen on; repeatable (default \":9662\": IPv4 and IPv6;\n"
     "\"127.0.0.1:0\" picks a free port; \"[::1]:9662\" an IPv6 address)",
     [](Flags& f, const std::string& v, std::string&) {
       f.listen_addresses.push_back(v);
       return true;
     }},
    {"web.telemetry-path", "PATH", "path under which to expose metrics (default \"/metrics\")",
     [](Flags& f, const std::string& v, std::string& error) {
       f.telemetry_path = v;
       if (!v.empty() && v[0] == '/') return true;
       error = "--web.telemetry-path must start with '/'";
       return false;
     }},
    {"web.config.file", "FILE", "exporter-toolkit web config: TLS and basic auth (bcrypt)",
     [](Flags& f, const std::string& v, std::string&) {
       f.web_config_file = v;
       return true;
     }},
    {"config.file", "FILE",
     "grouping and pipeline configuration (process-exporter compatible);\n"
     "without it: one group per comm, built-in defaults",
     [](Flags& f, const std::string& v, std::string&) {
       f.config_file = v;
       return true;
     }},
    {"config.check", "",
     "check --config.file (and --web.config.file when given), print a one-line summary\n"
     "or each error as file:line:col, exit 0 or 2; serves nothing",
     [](Flags& f, const std::string&, std::string&) {
       f.config_check = true;
       return true;
     }},
    {"log.level", "LEVEL", "debug, info, warn or error (default info)",
     [](Flags& f, const std::string& v, std::string& error) {
       if (parse_log_level(v, f.log_level)) return true;
       error = "--log.level must be debug, info, warn or error, not \"" + v + "\"";
       return false;
     }},
    {"log.format", "FORMAT", "logfmt or json (default logfmt)",
     [](Flags& f, const std::string& v, std::string& error) {
       if (parse_log_format(v, f.log_format)) return true;
       error = "--log.format must be logfmt or json, not \"" + v + "\"";
       return false;
     }},
    {"path.procfs", "DIR", "procfs mount point (default /proc)",
     [](Flags& f, const std::string& v, std::string&) {
       f.proc_root = v;
       return true;
     }},
    {"path.pod-logs", "DIR",
     "the kubelet's pod log directories, <namespace>_<pod>_<uid>, for the\n"
     "namespace and pod labels (default /var/log/pods)",
     [](Flags& f, const std::string& v, std::string&) {
       f.pod_logs = v;
       return true;
     }},
    {"path.container-logs", "DIR",
     "the kubelet's container log links, <pod>_<namespace>_<container>-<id>.log,\n"
     "for the container label (default /var/log/containers)",
     [](Flags& f, const std::string& v, std::string&) {
       f.container_logs = v;
       return true;
     }},
    {"no-self-check", "", "skip the start-up check that a probe child's fork/exit events arrive",
     [](Flags& f, const std::string&, std::string&) {
       f.self_check = false;
       return true;
     }},
    {"tail", "", "print one JSON object per event on stdout instead of serving metrics",
     [](Flags& f, const std::string&, std::string&) {
       f.tail = true;
       return true;
     }},
    {"tail.events", "LIST", "",  // the help names the events: see usage_text()
     [](Flags& f, const std::string& v, std::string&) {
       f.tail_events = v;
       return true;
     }},
    {"tail.seconds", "N", "with --tail: stop after N seconds",
     [](Flags& f, const std::string& v, std::string& error) {
       char* end = nullptr;
       f.tail_seconds = std::strtod(v.c_str(), &end);
       if (!v.empty() && *end == '\0' && f.tail_seconds >= 0) return true;
       error = "--tail.seconds must be a non-negative number, not \"" + v + "\"";
       return false;
     }},
    {"healthcheck", "URL",
     "GET http(s)://127.0.0.1:PORT/healthz and exit 0 on 200 (for images without curl;\n"
     "an http:// URL is retried over TLS when the server speaks only TLS)",
     [](Flags& f, const std::string& v, std::string&) {
       f.healthcheck_url = v;
       return true;
     }},
    {"compat.process-exporter", "",
     "serve the live per-group families under process-exporter's names, types and labels\n"
     "(namedprocess_namegroup_*), every group and family as it does, so its dashboards and alerts work",
     [](Flags& f, const std::string&, std::string&) {
       f.process_exporter_names = true;
       return true;
     }},
    {"version", "", "print the version and exit",
     [](Flags& f, const std::string&, std::string&) {
       f.version = true;
       return true;
     }},
};

const FlagSpec* find_flag(std::string_view name) {
  for (const FlagSpec& spec : kFlags) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

/// One usage entry: the flag padded to a column, its help beside it, further help lines under it.
void append_usage(std::string& out, std::string_view flag, std::string_view help) {
  constexpr std::size_t kHelpColumn = 30;
  std::string line = "  " + std::string(flag);
  line.resize(std::max(kHelpColumn, line.size() + 1), ' ');
  out += line;
  for (const char c : help) {
    out += c;
    if (c == '\n') out.append(kHelpColumn, ' ');
  }
  out += '\n';
}

/// Applies one "--name[=value]" argument, taking the value from the next argument when the flag
/// needs one and has no "=". `i` moves past a value taken.
bool apply_flag(std::string_view arg, int argc, const char* const* argv, int& i, Flags& flags, std::string& error) {
  std::string_view name = arg.substr(2);
  std::optional<std::string> value;
  if (const auto eq = name.find('='); eq != std::string_view::npos) {
    value = std::string(name.substr(eq + 1));
    name = name.substr(0, eq);
  }
  const FlagSpec* spec = find_flag(name);
  if (spec == nullptr) {
    error = "unknown flag --" + std::string(name);
    return false;
  }
  if (spec->value_name.empty()) {
    if (value) {
      error = "flag --" + std::string(name) + " takes no value";
      return false;
    }
    return spec->set(flags, {}, error);
  }
  if (!value) {
    if (i + 1 >= argc) {
      error = "flag --" + std::string(name) + " needs a value";
      return false;
    }
    value = argv[++i];
  }
  return spec->set(flags, *value, error);
}

}  // namespace

std::string usage_text() {
  std::string out =
      "usage: procevents_exporter [flags]\n\n"
      "Prometheus exporter for the Linux Process Events Connector: every fork, exec and exit.\n\n"
      "Flags:\n";
  for (const FlagSpec& spec : kFlags) {
    const std::string flag = "--" + std::string(spec.name) + (spec.value_name.empty() ? "" : "=" + std::string(spec.value_name));
    // The events come from connector::kEventTypes.
    const std::string help = spec.name == "tail.events"
                                 ? "with --tail: comma-separated events (" + connector::event_names_list(",") + ")"
                                 : std::string(spec.help);
    append_usage(out, flag, help);
  }
  append_usage(out, "-h, --help", "print this help and exit");
  return out +
         "\nNeeds CAP_NET_ADMIN (root) and the host's network, PID and user namespaces.\n"
         "Signals: SIGHUP reloads --config.file and --web.config.file (the web config is also re-read when it or\n"
         "a certificate file it names changes); SIGTERM/SIGINT stop cleanly.\n";
}

std::optional<Flags> parse_flags(int argc, const char* const* argv, std::string& error) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      flags.help = true;
    } else if (arg.substr(0, 2) != "--") {
      error = "unexpected argument \"" + std::string(arg) + "\"";
      return std::nullopt;
    } else if (!apply_flag(arg, argc, argv, i, flags, error)) {
      return std::nullopt;
    }
  }
  if (flags.listen_addresses.empty()) flags.listen_addresses.push_back(kDefaultListenAddress);
  return flags;
}

}  // namespace procevents::app
