#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "config/password.h"
#include "connector/event.h"

namespace procevents::config {

std::string ConfigError::to_string() const {
  std::string text = file;
  if (line > 0) text += ":" + std::to_string(line) + ":" + std::to_string(column);
  return text + ": " + message;
}

bool NameTemplate::has_variables() const {
  return std::any_of(parts.begin(), parts.end(), [](const Part& p) { return p.variable; });
}

namespace {

constexpr const char* kAttributionNames[] = {"unit", "container", "pod_uid", "user"};
constexpr const char* kPlainVariables[] = {"Comm", "ExeBase", "ExeFull", "Username", "Cgroup", "Unit", "ContainerID",
                                           "PodUID"};

/// Collects errors and warnings for one file; converts yaml-cpp marks to 1-based positions.
class Context {
 public:
  explicit Context(std::string file) : file_(std::move(file)) {}
  void error(const YAML::Mark& mark, std::string message) {
    errors.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
  }
  void error(const YAML::Node& node, std::string message) { error(node.Mark(), std::move(message)); }
  void warn(const YAML::Node& node, const std::string& message) {
    warnings.push_back(file_ + ":" + std::to_string(node.Mark().line + 1) + ": " + message);
  }
  std::vector<ConfigError> errors;
  std::vector<std::string> warnings;

 private:
  std::string file_;
};

/// Returns the byte offset of the first invalid UTF-8 sequence, or npos.
std::size_t invalid_utf8_at(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return i;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

template <class T>
bool read_scalar(Context& ctx, const YAML::Node& node, const char* key, T& out) {
  if (!node.IsScalar()) {
    ctx.error(node, std::string(key) + ": expected a single value");
    return false;
  }
  try {
    out = node.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    ctx.error(node, std::string(key) + ": invalid value \"" + node.Scalar() + "\"");
    return false;
  }
}

/// A non-negative integer that fits size_t (yaml-cpp happily converts "-1" to a huge unsigned).
bool read_count(Context& ctx, const YAML::Node& node, const char* key, std::size_t& out, std::size_t min,
                std::size_t max) {
  long long value = 0;
  if (!read_scalar(ctx, node, key, value)) return false;
  if (value < static_cast<long long>(min) || static_cast<unsigned long long>(value) > max) {
    ctx.error(node, std::string(key) + ": must be between " + std::to_string(min) + " and " + std::to_string(max));
    return false;
  }
  out = static_cast<std::size_t>(value);
  return true;
}

bool read_string_list(Context& ctx, const YAML::Node& node, const char* key, std::vector<std::string>& out) {
  out.clear();
  if (node.IsScalar()) {  // tolerate a single string where a list is expected? No: process-exporter requires lists.
    ctx.error(node, std::string(key) + ": expected a list, e.g. [" + node.Scalar() + "]");
    return false;
  }
  if (!node.IsSequence()) {
    ctx.error(node, std::string(key) + ": expected a list of strings");
    return false;
  }
  for (const YAML::Node& item : node) {
    std::string value;
    if (!read_scalar(ctx, item, key, value)) return false;
    out.push_back(std::move(value));
  }
  return true;
}

bool parse_template(Context& ctx, const YAML::Mark& node, const std::string& text, NameTemplate& out) {
  out.parts.clear();
  std::size_t at = 0;
  while (at < text.size()) {
    const auto open = text.find("{{", at);
    if (open == std::string::npos) {
      out.parts.push_back({false, text.substr(at)});
      break;
    }
    if (open > at) out.parts.push_back({false, text.substr(at, open - at)});
    const auto close = text.find("}}", open + 2);
    if (close == std::string::npos) {
      ctx.error(node, "name: unterminated \"{{\" in template \"" + text + "\"");
      return false;
    }
    std::string inner = text.substr(open + 2, close - open - 2);
    inner.erase(0, inner.find_first_not_of(' '));
    inner.erase(inner.find_last_not_of(' ') + 1);
    if (inner.empty() || inner[0] != '.') {
      ctx.error(node, "name: unsupported template action \"{{" + inner + "}}\" (only {{.Variable}} is supported)");
      return false;
    }
    const std::string variable = inner.substr(1);
    if (variable == "PID" || variable == "StartTime") {
      ctx.error(node, "name: {{." + variable + "}} would create one group per process (unbounded cardinality)");
      return false;
    }
    const bool plain = std::find(std::begin(kPlainVariables), std::end(kPlainVariables), variable) !=
                       std::end(kPlainVariables);
    const bool match = variable.rfind("Matches.", 0) == 0 && variable.size() > 8;
    if (!plain && !match) {
      ctx.error(node, "name: unknown template variable {{." + variable +
                          "}} (known: Comm, ExeBase, ExeFull, Username, Cgroup, Unit, ContainerID, PodUID, Matches.NAME)");
      return false;
    }
    out.parts.push_back({true, variable});
    at = close + 2;
  }
  return true;
}

/// Go RE2 -> ECMAScript: named groups become plain groups whose index we remember; a leading (?i)
/// becomes the icase flag. Anything else std::regex rejects is reported with the pattern.
bool compile_regex(Context& ctx, const YAML::Node& node, const std::string& pattern, CmdlineRegex& out) {
  out.pattern = pattern;
  out.captures.clear();
  std::string translated;
  auto flags = std::regex::ECMAScript | std::regex::optimize;
  std::string_view rest = pattern;
  if (rest.rfind("(?i)", 0) == 0) {
    flags |= std::regex::icase;
    rest.remove_prefix(4);
  }
  std::size_t group = 0;
  bool in_class = false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if (c == '\\' && i + 1 < rest.size()) {
      translated += rest.substr(i, 2);
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      translated += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      translated += c;
      continue;
    }
    if (c == '(') {
      const std::string_view after = rest.substr(i + 1);
      if (after.rfind("?P<", 0) == 0 || (after.rfind("?<", 0) == 0 && after.size() > 2 && after[2] != '=' && after[2] != '!')) {
        const std::size_t name_start = i + 1 + (after[1] == 'P' ? 3 : 2);
        const auto name_end = rest.find('>', name_start);
        if (name_end == std::string_view::npos) {
          ctx.error(node, "cmdline: unterminated group name in regex \"" + pattern + "\"");
          return false;
        }
        ++group;
        out.captures.emplace_back(std::string(rest.substr(name_start, name_end - name_start)), group);
        translated += '(';
        i = name_end;
        continue;
      }
      if (after.empty() || after[0] != '?') ++group;
    }
    translated += c;
  }
  try {
    out.regex = std::regex(translated, flags);
  } catch (const std::regex_error& e) {
    ctx.error(node, "cmdline: invalid regex \"" + pattern + "\": " + e.what());
    return false;
  }
  return true;
}

bool parse_matcher(Context& ctx, const YAML::Node& node, Matcher& out) {
  if (!node.IsMap()) {
    ctx.error(node, "process_names: each entry must be a mapping with name/comm/exe/cmdline");
    return false;
  }
  out.line = node.Mark().line + 1;
  bool ok = true;
  bool has_selector = false;
  std::string name = "{{.ExeBase}}";
  // A Mark, not a Node: assigning one YAML::Node to another overwrites the referenced node's content
  // (yaml-cpp semantics), which corrupted the map being iterated here (found by fuzzing).
  YAML::Mark name_mark = node.Mark();
  for (const auto& item : node) {
    const std::string key = item.first.Scalar();
    const YAML::Node& value = item.second;
    if (key == "name") {
      ok &= read_scalar(ctx, value, "name", name);
      name_mark = value.Mark();
    } else if (key == "comm") {
      ok &= read_string_list(ctx, value, "comm", out.comm);
      has_selector = true;
    } else if (key == "exe") {
      ok &= read_string_list(ctx, value, "exe", out.exe);
      has_selector = true;
    } else if (key == "cmdline") {
      std::vector<std::string> patterns;
      if (read_string_list(ctx, value, "cmdline", patterns)) {
        for (std::size_t i = 0; i < patterns.size(); ++i) {
          CmdlineRegex regex;
          if (compile_regex(ctx, value[i], patterns[i], regex)) {
            out.cmdline.push_back(std::move(regex));
          } else {
            ok = false;
          }
        }
      } else {
        ok = false;
      }
      has_selector = true;
    } else {
      ctx.warn(item.first, "process_names: unknown matcher key \"" + key + "\" ignored");
    }
  }
  if (ok && !has_selector) {
    ctx.error(node, "process_names: entry has none of comm, exe, cmdline; it would match nothing");
    return false;
  }
  if (ok) ok = parse_template(ctx, name_mark, name, out.name);
  if (ok) {
    for (const auto& part : out.name.parts) {
      if (!part.variable || part.text.rfind("Matches.", 0) != 0) continue;
      const std::string capture = part.text.substr(8);
      const bool known = std::any_of(out.cmdline.begin(), out.cmdline.end(), [&](const CmdlineRegex& r) {
        return std::any_of(r.captures.begin(), r.captures.end(), [&](const auto& c) { return c.first == capture; });
      });
      if (!known) {
        ctx.error(name_mark, "name: {{.Matches." + capture + "}} names no capture group of this entry's cmdline regexes");
        ok = false;
      }
    }
  }
  return ok;
}

void parse_root(Context& ctx, const YAML::Node& root, Config& cfg) {
  for (const auto& item : root) {
    const std::string key = item.first.Scalar();
    const YAML::Node& value = item.second;
    if (key == "process_names") {
      if (!value.IsSequence()) {
        ctx.error(value, "process_names: expected a list");
        continue;
      }
      for (const YAML::Node& entry : value) {
        Matcher matcher;
        if (parse_matcher(ctx, entry, matcher)) cfg.process_names.push_back(std::move(matcher));
      }
    } else if (key == "max_groups") {
      read_count(ctx, value, "max_groups", cfg.max_groups, 1, 1'000'000);
    } else if (key == "max_processes") {
      read_count(ctx, value, "max_processes", cfg.max_processes, 16, 16'777'216);
    } else if (key == "receive_buffer_bytes") {
      read_count(ctx, value, "receive_buffer_bytes", cfg.receive_buffer_bytes, 0, 1u << 30);
    } else if (key == "ring_capacity") {
      if (read_count(ctx, value, "ring_capacity", cfg.ring_capacity, 2, 1u << 24) &&
          (cfg.ring_capacity & (cfg.ring_capacity - 1)) != 0) {
        ctx.error(value, "ring_capacity: must be a power of two (e.g. 65536)");
      }
    } else if (key == "unmatched") {
      std::string text;
      if (read_scalar(ctx, value, "unmatched", text)) {
        if (text == "other") {
          cfg.unmatched = Unmatched::kOther;
        } else if (text == "ignore") {
          cfg.unmatched = Unmatched::kIgnore;
        } else {
          ctx.error(value, "unmatched: must be \"other\" or \"ignore\"");
        }
      }
    } else if (key == "lifetime_buckets") {
      if (!value.IsSequence() || value.size() == 0) {
        ctx.error(value, "lifetime_buckets: expected a non-empty list of seconds");
        continue;
      }
      cfg.lifetime_buckets.clear();
      for (const YAML::Node& bucket : value) {
        double bound = 0;
        if (!read_scalar(ctx, bucket, "lifetime_buckets", bound)) break;
        if (!(bound > 0) || !std::isfinite(bound)) {
          ctx.error(bucket, "lifetime_buckets: bounds must be positive finite seconds");
          break;
        }
        if (!cfg.lifetime_buckets.empty() && bound <= cfg.lifetime_buckets.back()) {
          ctx.error(bucket, "lifetime_buckets: bounds must be strictly increasing");
          break;
        }
        cfg.lifetime_buckets.push_back(bound);
      }
    } else if (key == "events") {
      if (read_string_list(ctx, value, "events", cfg.events)) {
        for (std::size_t i = 0; i < cfg.events.size(); ++i) {
          if (connector::event_bit_for_name(cfg.events[i]) == 0) {
            ctx.error(value[i], "events: unknown event \"" + cfg.events[i] + "\" (known: " +
                                    std::string(connector::kEventNamesHelp) + ")");
          }
        }
        if (cfg.events.empty()) ctx.error(value, "events: at least one event is needed");
      }
    } else if (key == "attribution") {
      if (read_string_list(ctx, value, "attribution", cfg.attribution)) {
        for (std::size_t i = 0; i < cfg.attribution.size(); ++i) {
          if (std::find(std::begin(kAttributionNames), std::end(kAttributionNames), cfg.attribution[i]) ==
              std::end(kAttributionNames)) {
            ctx.error(value[i], "attribution: unknown label \"" + cfg.attribution[i] + "\" (known: unit, container, pod_uid, user)");
          }
        }
      }
    } else if (key == "attribution_limits") {
      if (!value.IsMap()) {
        ctx.error(value, "attribution_limits: expected a mapping like {unit: 200}");
        continue;
      }
      for (const auto& limit : value) {
        const std::string label = limit.first.Scalar();
        if (std::find(std::begin(kAttributionNames), std::end(kAttributionNames), label) == std::end(kAttributionNames)) {
          ctx.error(limit.first, "attribution_limits: unknown label \"" + label + "\"");
          continue;
        }
        read_count(ctx, limit.second, "attribution_limits", cfg.attribution_limits[label], 1, 100'000);
      }
    } else if (key == "read_cgroup") {
      read_scalar(ctx, value, "read_cgroup", cfg.read_cgroup);
    } else {
      ctx.warn(item.first, "unknown key \"" + key + "\" ignored");
    }
  }
}

std::uint32_t mask_of(const std::vector<std::string>& events) {
  std::uint32_t mask = 0;
  for (const std::string& name : events) mask |= connector::event_bit_for_name(name);
  return mask;
}

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = "cannot open file";
    return false;
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) {
    error = "cannot read file";
    return false;
  }
  out = std::move(contents).str();
  return true;
}

/// Reads `path` and hands its text to `load(text, path)`; a file that cannot be read is one error.
template <class Result, class Load>
Result load_from_file(const std::string& path, Load&& load) {
  std::string text, error;
  if (!read_file(path, text, error)) {
    Result result;
    result.errors.push_back({path, 0, 0, error});
    return result;
  }
  return load(text, path);
}

/// Moves the collected errors and warnings into `result`, with `value` only when there were no errors.
template <class Result, class Value>
Result finish(Context& ctx, Value&& value) {
  Result result;
  result.errors = std::move(ctx.errors);
  result.warnings = std::move(ctx.warnings);
  if (result.errors.empty()) result.config = std::forward<Value>(value);
  return result;
}

/// Shared front half of both loaders: UTF-8 check, YAML parse, "must be a mapping".
std::optional<YAML::Node> parse_yaml(Context& ctx, std::string_view text, bool empty_is_error) {
  if (const auto at = invalid_utf8_at(text); at != std::string_view::npos) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
    const auto line_start = text.rfind('\n', at == 0 ? 0 : at - 1);
    const auto column = at - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
    YAML::Mark mark;
    mark.line = static_cast<int>(line - 1);
    mark.column = static_cast<int>(column - 1);
    ctx.error(mark, "file is not valid UTF-8");
    return std::nullopt;
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    ctx.error(e.mark, "YAML syntax error: " + e.msg);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    ctx.error(e.mark, std::string("YAML error: ") + e.what());
    return std::nullopt;
  }
  if (root.IsNull()) {
    if (empty_is_error) {
      ctx.error(YAML::Mark(), "file is empty");
      return std::nullopt;
    }
    return YAML::Node(YAML::NodeType::Map);
  }
  if (!root.IsMap()) {
    ctx.error(root, "top level must be a mapping (e.g. process_names: [...])");
    return std::nullopt;
  }
  return root;
}

}  // namespace

Config default_config() {
  Config cfg;
  cfg.event_mask = mask_of(cfg.events);
  return cfg;
}

LoadResult load_config_string(std::string_view text, const std::string& name) {
  Context ctx(name);
  Config cfg = default_config();
  cfg.source = name;
  try {
    if (const auto root = parse_yaml(ctx, text, true)) parse_root(ctx, *root, cfg);
  } catch (const std::exception& e) {  // belt and braces: nothing escapes the config layer
    ctx.error(YAML::Mark(), std::string("unexpected error: ") + e.what());
  }
  cfg.event_mask = mask_of(cfg.events);
  return finish<LoadResult>(ctx, std::move(cfg));
}

LoadResult load_config_file(const std::string& path) {
  return load_from_file<LoadResult>(path, load_config_string);
}

std::string describe(const Config& cfg) {
  std::ostringstream out;
  out << "config: " << cfg.source << "\n";
  if (cfg.process_names.empty()) {
    out << "process_names: one group per comm (default)\n";
  } else {
    out << "process_names: " << cfg.process_names.size() << " matchers\n";
  }
  out << "max_groups: " << cfg.max_groups << "\nunmatched: " << (cfg.unmatched == Unmatched::kOther ? "other" : "ignore")
      << "\nring_capacity: " << cfg.ring_capacity << "\nmax_processes: " << cfg.max_processes
      << "\nreceive_buffer_bytes: " << cfg.receive_buffer_bytes << "\nevents: [";
  for (std::size_t i = 0; i < cfg.events.size(); ++i) out << (i ? ", " : "") << cfg.events[i];
  out << "]\nlifetime_buckets: [";
  for (std::size_t i = 0; i < cfg.lifetime_buckets.size(); ++i) out << (i ? ", " : "") << cfg.lifetime_buckets[i];
  out << "]\nattribution: [";
  for (std::size_t i = 0; i < cfg.attribution.size(); ++i) out << (i ? ", " : "") << cfg.attribution[i];
  out << "]\n";
  return out.str();
}

// ---- web config --------------------------------------------------------------------------------

WebConfigResult load_web_config_string(std::string_view text, const std::string& name) {
  Context ctx(name);
  WebConfig web;
  try {
    if (const auto root = parse_yaml(ctx, text, false)) {
      for (const auto& item : *root) {
        const std::string key = item.first.Scalar();
        const YAML::Node& value = item.second;
        if (key == "tls_server_config") {
          if (!value.IsMap()) {
            ctx.error(value, "tls_server_config: expected a mapping");
            continue;
          }
          for (const auto& tls : value) {
            const std::string tls_key = tls.first.Scalar();
            std::string* target = tls_key == "cert_file"          ? &web.tls.cert_file
                                  : tls_key == "key_file"         ? &web.tls.key_file
                                  : tls_key == "client_ca_file"   ? &web.tls.client_ca_file
                                  : tls_key == "client_auth_type" ? &web.tls.client_auth_type
                                  : tls_key == "min_version"      ? &web.tls.min_version
                                                                  : nullptr;
            if (target) {
              read_scalar(ctx, tls.second, tls_key.c_str(), *target);
            } else {
              ctx.warn(tls.first, "tls_server_config: \"" + tls_key + "\" is not supported and is ignored");
            }
          }
          if (web.tls.cert_file.empty() != web.tls.key_file.empty()) {
            ctx.error(value, "tls_server_config: cert_file and key_file must be given together");
          }
          static const std::set<std::string> kAuthTypes = {"NoClientCert", "RequestClientCert", "RequireAnyClientCert",
                                                           "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"};
          if (!kAuthTypes.count(web.tls.client_auth_type)) {
            ctx.error(value, "tls_server_config: unknown client_auth_type \"" + web.tls.client_auth_type + "\"");
          }
          if (!web.tls.min_version.empty() && web.tls.min_version != "TLS12" && web.tls.min_version != "TLS13") {
            ctx.error(value, "tls_server_config: min_version must be TLS12 or TLS13");
          }
        } else if (key == "http_server_config") {
          if (!value.IsMap()) {
            ctx.error(value, "http_server_config: expected a mapping");
            continue;
          }
          for (const auto& http : value) {
            const std::string http_key = http.first.Scalar();
            if (http_key == "headers" && http.second.IsMap()) {
              for (const auto& header : http.second) {
                std::string header_value;
                if (read_scalar(ctx, header.second, "headers", header_value)) {
                  if (header_value.find_first_of("\r\n") != std::string::npos) {
                    ctx.error(header.second, "headers: values must not contain line breaks");
                  } else {
                    web.headers[header.first.Scalar()] = header_value;
                  }
                }
              }
            } else {
              ctx.warn(http.first, "http_server_config: \"" + http_key + "\" is not supported and is ignored");
            }
          }
        } else if (key == "basic_auth_users") {
          if (!value.IsMap()) {
            ctx.error(value, "basic_auth_users: expected a mapping of user: bcrypt-hash");
            continue;
          }
          for (const auto& user : value) {
            std::string hash;
            if (!read_scalar(ctx, user.second, "basic_auth_users", hash)) continue;
            if (!looks_like_bcrypt(hash)) {
              ctx.error(user.second, "basic_auth_users: the password of \"" + user.first.Scalar() +
                                         "\" must be a bcrypt hash ($2y$..., e.g. from htpasswd -nBC 10)");
              continue;
            }
            web.basic_auth_users[user.first.Scalar()] = hash;
          }
        } else {
          ctx.warn(item.first, "unknown key \"" + key + "\" ignored");
        }
      }
    }
  } catch (const std::exception& e) {
    ctx.error(YAML::Mark(), std::string("unexpected error: ") + e.what());
  }
  return finish<WebConfigResult>(ctx, std::move(web));
}

WebConfigResult load_web_config_file(const std::string& path) {
  WebConfigResult result = load_from_file<WebConfigResult>(path, load_web_config_string);
  // Relative certificate paths are relative to the web config file, as in exporter-toolkit.
  if (result.config) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    for (std::string* file : {&result.config->tls.cert_file, &result.config->tls.key_file,
                              &result.config->tls.client_ca_file}) {
      if (!file->empty() && (*file)[0] != '/') *file = dir + *file;
      if (!file->empty() && !std::ifstream(*file)) {
        result.errors.push_back({path, 0, 0, "cannot read " + *file});
      }
    }
    if (!result.errors.empty()) result.config.reset();
  }
  return result;
}

}  // namespace procevents::config
