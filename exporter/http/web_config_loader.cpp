#include "http/web_config_loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"
#include "config/yaml_support.h"
#include "http/password.h"

namespace procevents::http {

namespace detail = config::detail;  // the YAML helpers the config loader uses too

namespace {

using detail::Diagnostics;
using detail::Entry;

constexpr std::string_view kAuthTypes[] = {"NoClientCert", "RequestClientCert", "RequireAnyClientCert",
                                           "RequireClientCert",  // exporter-toolkit's old name for RequireAnyClientCert
                                           "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"};
constexpr std::string_view kTlsVersions[] = {"TLS10", "TLS11", "TLS12", "TLS13"};
// What exporter-toolkit accepts: Go's tls.CipherSuites() and tls.InsecureCipherSuites() by name, and its
// curve names. tls_context.cpp finds each in OpenSSL by the same (IANA) name.
constexpr std::string_view kCipherSuites[] = {
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    // insecure ones, accepted by name as exporter-toolkit does; OpenSSL 3 may not offer them (then start fails)
    "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"};
constexpr std::string_view kCurves[] = {"CurveP256", "CurveP384", "CurveP521", "X25519"};

/// exporter-toolkit allows these response headers only, some with fixed values; so do we, so that
/// a file valid there is valid here and the reverse.
struct AllowedHeader {
  std::string_view name;
  std::vector<std::string_view> values;  // empty: any value
};
const AllowedHeader kAllowedHeaders[] = {
    {"Strict-Transport-Security", {}},
    {"X-Content-Type-Options", {"nosniff"}},
    {"X-Frame-Options", {"deny", "sameorigin"}},
    {"X-XSS-Protection", {}},
    {"Content-Security-Policy", {}},
};

template <std::size_t N>
bool one_of(const std::string_view (&list)[N], std::string_view value) {
  for (std::string_view item : list) {
    if (item == value) return true;
  }
  return false;
}

/// Where each file name was given, for errors about the file itself.
struct FileMarks {
  YAML::Mark cert, key, client_ca, versions;
};

/// What the keys of tls_server_config seen so far switched on.
struct TlsSeen {
  bool any = false;              // exporter-toolkit: any of the keys that switch TLS on was given
  bool auth_type_given = false;  // client_auth_type was set explicitly
};

/// client_auth_type: one of kAuthTypes; "" is NoClientCert and does not switch TLS on.
void parse_client_auth_type(Diagnostics& diag, const Entry& entry, const std::string& what, TlsConfig& tls,
                            TlsSeen& seen) {
  std::string type;
  if (!detail::read_string(diag, entry.value, entry.mark, what, type) || type.empty()) return;
  if (!one_of(kAuthTypes, type)) {
    diag.error(entry.mark, what + ": unknown value \"" + type +
                               "\" (NoClientCert, RequestClientCert, RequireAnyClientCert, "
                               "VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
    return;
  }
  tls.client_auth_type = type == "RequireClientCert" ? "RequireAnyClientCert" : type;
  seen.auth_type_given = true;
  seen.any = true;
}

/// min_version or max_version: TLS12 or TLS13 (TLS10 and TLS11 are known but refused).
void parse_tls_version(Diagnostics& diag, const Entry& entry, const std::string& what, TlsConfig& tls,
                       FileMarks& marks) {
  std::string version;
  if (!detail::read_string(diag, entry.value, entry.mark, what, version)) return;
  if (!one_of(kTlsVersions, version)) {
    diag.error(entry.mark, what + ": unknown TLS version \"" + version + "\" (TLS12 or TLS13)");
  } else if (version == "TLS10" || version == "TLS11") {
    diag.error(entry.mark, what + ": TLS 1.0 and 1.1 are not supported; use TLS12 or TLS13");
  } else {
    (entry.key == "min_version" ? tls.min_version : tls.max_version) = version;
    marks.versions = entry.mark;
  }
}

/// cipher_suites or curve_preferences: lists of Go's names.
void parse_tls_names(Diagnostics& diag, const Entry& entry, const std::string& what, TlsConfig& tls) {
  const bool ciphers = entry.key == "cipher_suites";
  std::vector<std::string> names;
  if (!detail::read_string_list(diag, entry.value, entry.mark, what, names)) return;
  for (const std::string& name : names) {
    if (ciphers ? one_of(kCipherSuites, name) : one_of(kCurves, name)) continue;
    diag.error(entry.mark, what + ": unknown " + (ciphers ? "cipher suite" : "curve") + " \"" + name + "\" (" +
                               (ciphers ? "Go's names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
                                        : "CurveP256, CurveP384, CurveP521 or X25519") + ")");
  }
  (ciphers ? tls.cipher_suites : tls.curve_preferences) = std::move(names);
}

/// One key of tls_server_config.
void parse_tls_entry(Diagnostics& diag, const Entry& entry, TlsConfig& tls, FileMarks& marks, TlsSeen& seen) {
  const std::string what = "tls_server_config." + entry.key;
  const std::pair<std::string*, YAML::Mark*> files[] = {
      {&tls.cert_file, &marks.cert}, {&tls.key_file, &marks.key}, {&tls.client_ca_file, &marks.client_ca}};
  const char* const file_keys[] = {"cert_file", "key_file", "client_ca_file"};
  for (std::size_t i = 0; i < std::size(file_keys); ++i) {
    if (entry.key != file_keys[i]) continue;
    detail::read_string(diag, entry.value, entry.mark, what, *files[i].first);
    *files[i].second = entry.mark;
    seen.any = true;
    return;
  }
  if (entry.key == "client_auth_type") {
    parse_client_auth_type(diag, entry, what, tls, seen);
  } else if (entry.key == "min_version" || entry.key == "max_version") {
    parse_tls_version(diag, entry, what, tls, marks);
  } else if (entry.key == "cipher_suites" || entry.key == "curve_preferences") {
    parse_tls_names(diag, entry, what, tls);
  } else if (entry.key == "prefer_server_cipher_suites") {
    detail::read_bool(diag, entry.value, entry.mark, what, tls.prefer_server_cipher_suites);
  } else if (entry.key == "cert" || entry.key == "key" || entry.key == "client_ca") {
    // Ignoring these would silently serve without the TLS the user asked for.
    diag.error(entry.key_node, what + ": inline PEM is not supported; put it in a file and use " + entry.key + "_file");
  } else if (entry.key == "client_allowed_sans") {
    // Ignoring it would accept client certificates the user meant to refuse.
    diag.error(entry.key_node, what + " is not supported");
  } else {
    diag.warn(entry.key_node, "tls_server_config: unknown key \"" + entry.key + "\" ignored");
  }
}

/// What only the whole section can tell: cert and key both given, a CA only with a client_auth_type that
/// uses it, the versions in order.
void check_tls(Diagnostics& diag, const Entry& section, const TlsConfig& tls, const FileMarks& marks,
               const TlsSeen& seen) {
  if (tls.cert_file.empty()) diag.error(section.mark, "tls_server_config: cert_file is missing");
  if (tls.key_file.empty()) diag.error(section.mark, "tls_server_config: key_file is missing");
  const std::string& type = tls.client_auth_type;
  const bool verifies = type == "VerifyClientCertIfGiven" || type == "RequireAndVerifyClientCert";
  if (!tls.client_ca_file.empty() && type == "NoClientCert") {
    diag.error(marks.client_ca, "tls_server_config: client_ca_file is set but client_auth_type is " +
                                    std::string(seen.auth_type_given ? "NoClientCert" : "not") +
                                    " (e.g. RequireAndVerifyClientCert)");
  }
  if (tls.min_version == "TLS13" && tls.max_version == "TLS12") {
    diag.error(marks.versions, "tls_server_config: min_version TLS13 is above max_version TLS12");
  }
  if (verifies && tls.client_ca_file.empty()) {
    diag.error(section.mark, "tls_server_config: client_auth_type " + type + " needs client_ca_file");
  }
}

void parse_tls(Diagnostics& diag, const Entry& section, TlsConfig& tls, FileMarks& marks) {
  if (section.value.IsNull()) return;
  if (!section.value.IsMap()) {
    diag.error(section.mark, "tls_server_config: expected a mapping");
    return;
  }
  TlsSeen seen;
  for (const Entry& entry : detail::entries(diag, section.value, "tls_server_config")) {
    parse_tls_entry(diag, entry, tls, marks, seen);
  }
  if (seen.any) check_tls(diag, section, tls, marks, seen);
}

void parse_http(Diagnostics& diag, const Entry& section, WebConfig& web) {
  if (section.value.IsNull()) return;
  if (!section.value.IsMap()) {
    diag.error(section.mark, "http_server_config: expected a mapping");
    return;
  }
  for (const Entry& entry : detail::entries(diag, section.value, "http_server_config")) {
    if (entry.key == "headers") {
      if (entry.value.IsNull()) continue;
      if (!entry.value.IsMap()) {
        diag.error(entry.mark, "http_server_config.headers: expected a mapping of header: value");
        continue;
      }
      for (const Entry& header : detail::entries(diag, entry.value, "http_server_config.headers")) {
        const AllowedHeader* allowed = nullptr;
        for (const AllowedHeader& candidate : kAllowedHeaders) {
          if (candidate.name == header.key) allowed = &candidate;
        }
        if (!allowed) {  // the allowed names are all RFC 9110 tokens
          diag.error(header.key_node, "http_server_config.headers: \"" + header.key +
                                          "\" cannot be configured (allowed: Strict-Transport-Security, "
                                          "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, "
                                          "Content-Security-Policy)");
          continue;
        }
        std::string value;
        if (!detail::read_string(diag, header.value, header.mark, "http_server_config.headers." + header.key, value)) continue;
        if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
          diag.error(header.mark, "http_server_config.headers." + header.key + ": the value must be one line");
          continue;
        }
        bool value_ok = allowed->values.empty();
        for (std::string_view v : allowed->values) value_ok |= v == value;
        if (!value_ok) {
          std::string choices;
          for (std::string_view v : allowed->values) choices += (choices.empty() ? "" : " or ") + std::string(v);
          diag.error(header.mark, "http_server_config.headers." + header.key + ": must be " + choices);
          continue;
        }
        web.headers[header.key] = value;
      }
    } else if (entry.key == "http2") {
      bool http2 = false;
      if (detail::read_bool(diag, entry.value, entry.mark, "http_server_config.http2", http2) && http2) {
        diag.warn(entry.mark, "http_server_config.http2 is ignored: HTTP/1.1 only");
      }
    } else {
      diag.warn(entry.key_node, "http_server_config: unknown key \"" + entry.key + "\" ignored");
    }
  }
}

void parse_users(Diagnostics& diag, const Entry& section, WebConfig& web) {
  if (section.value.IsNull()) return;
  if (!section.value.IsMap()) {
    diag.error(section.mark, "basic_auth_users: expected a mapping of user: bcrypt-hash");
    return;
  }
  for (const Entry& user : detail::entries(diag, section.value, "basic_auth_users")) {
    if (user.key.empty() || user.key.find(':') != std::string::npos) {
      diag.error(user.key_node, "basic_auth_users: \"" + user.key + "\" cannot be a user name (empty, or has a ':')");
      continue;
    }
    std::string hash;
    if (!detail::read_string(diag, user.value, user.mark, "basic_auth_users." + user.key, hash)) continue;
    if (!looks_like_bcrypt(hash)) {
      diag.error(user.mark, "basic_auth_users." + user.key +
                                ": not a bcrypt hash ($2y$10$ and 53 more characters; make one with htpasswd -nBC 10 \"\")");
      continue;
    }
    web.basic_auth_users[user.key] = hash;
  }
}

WebConfigResult load(std::string_view text, const std::string& name, const std::string* base_dir) {
  Diagnostics diag(name);
  WebConfig web;
  FileMarks marks;
  try {
    if (const std::optional<YAML::Node> root = detail::parse_document(diag, text, false)) {
      for (const Entry& entry : detail::entries(diag, *root, "top level")) {
        if (entry.key == "tls_server_config") {
          parse_tls(diag, entry, web.tls, marks);
        } else if (entry.key == "http_server_config") {
          parse_http(diag, entry, web);
        } else if (entry.key == "basic_auth_users") {
          parse_users(diag, entry, web);
        } else if (entry.key == "rate_limit") {
          diag.warn(entry.key_node, "rate_limit is ignored: the exporter does not limit request rates");
        } else {
          diag.warn(entry.key_node, "unknown key \"" + entry.key + "\" ignored");
        }
      }
    }
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    diag.error_at_line(0, 0, std::string("unexpected error: ") + e.what());
  }
  if (base_dir && diag.errors.empty()) {
    const std::pair<std::string*, const YAML::Mark*> files[] = {
        {&web.tls.cert_file, &marks.cert}, {&web.tls.key_file, &marks.key}, {&web.tls.client_ca_file, &marks.client_ca}};
    for (const auto& [file, mark] : files) {
      if (file->empty()) continue;
      if ((*file)[0] != '/') *file = *base_dir + *file;
      if (!UniqueFd(::open(file->c_str(), O_RDONLY | O_CLOEXEC))) {
        diag.error(*mark, "cannot read " + *file + ": " + std::strerror(errno));
      }
    }
  }
  return detail::finish_result<WebConfigResult>(diag, std::move(web));
}

}  // namespace

WebConfigResult load_web_config_string(std::string_view text, const std::string& name) {
  return load(text, name, nullptr);
}

WebConfigResult load_web_config_file(const std::string& path) {
  std::string text, error;
  if (!detail::read_file(path, text, error)) return detail::unreadable_result<WebConfigResult>(path, std::move(error));
  // Relative file names are relative to the web config file, as in exporter-toolkit.
  const std::size_t slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  return load(text, path, &base_dir);
}

}  // namespace procevents::http
