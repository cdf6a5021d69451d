#include "http/tls_context.h"

#include <civetweb.h>
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace procevents::http {

namespace {

constexpr unsigned char kSessionContext[] = "procevents_exporter";

bool fail(std::string* error, std::string message) {
  // OpenSSL's queue holds the reason (e.g. "No such file or directory", "key values mismatch").
  const unsigned long code = ERR_peek_last_error();
  if (code != 0) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof reason);
    message += std::string(": ") + reason;
  }
  ERR_clear_error();
  if (error) *error = std::move(message);
  return false;
}

/// Loads one shim with RTLD_GLOBAL (so civetweb's dlopen() of its SONAME returns it) from the executable's
/// directory or ../lib/procevents_exporter/ beside it; "" or why not.
std::string load_shim(const char* name, const char* symbol) {
  char exe[4096];
  const ssize_t length = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (length <= 0) return "cannot locate the executable to find " + std::string(name);
  const std::string dir = std::string(exe, static_cast<std::size_t>(length)).substr(0, std::string_view(exe, length).rfind('/') + 1);
  std::string tried;
  for (const std::string& path : {dir + name, dir + "../lib/procevents_exporter/" + name}) {
    if (::access(path.c_str(), F_OK) != 0) {
      tried += (tried.empty() ? "" : " or ") + path;
      continue;
    }
    void* shim = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!shim) {
      const char* why = ::dlerror();
      return "cannot load " + path + " (civetweb needs it for TLS with OpenSSL 3): " + (why ? why : "unknown error");
    }
    if (::dlsym(shim, symbol) == nullptr) return path + " does not provide the OpenSSL functions civetweb looks up";
    return "";
  }
  return "cannot find " + tried + " (civetweb needs it for TLS with OpenSSL 3)";
}

int accept_any_certificate(int /*preverify_ok*/, X509_STORE_CTX* /*store*/) { return 1; }

}  // namespace

bool init_civetweb_library(bool tls, std::string* error) {
  static std::mutex mutex;
  static bool plain_done = false;
  static bool tls_done = false;
  static std::string tls_error;
  std::lock_guard lock(mutex);
  if (!tls) {
    if (!plain_done && !tls_done) mg_init_library(MG_FEATURES_DEFAULT);
    plain_done = true;
    return true;
  }
  if (!tls_done) {
    tls_done = true;
    if (mg_check_feature(MG_FEATURES_TLS) == 0) {
      tls_error = "TLS requested, but the system's civetweb library was built without TLS support";
    } else {
      tls_error = load_shim("procevents_civetweb_crypto.so", "ERR_get_error");
      if (tls_error.empty()) tls_error = load_shim("procevents_civetweb_ssl.so", "SSL_get_peer_certificate");
    }
    // civetweb counts init calls, sets up OpenSSL on the first one that asks for TLS, and returns the
    // features it managed to initialise.
    if (tls_error.empty() && (mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS) == 0) {
      tls_error = "civetweb could not initialise OpenSSL (it dlopen()s \"libssl.so\" and \"libcrypto.so\")";
    }
  }
  if (!tls_error.empty()) {
    if (error) *error = tls_error;
    return false;
  }
  return true;
}

namespace {

// OpenSSL 3.0's default key exchange groups, in its order: what a connection gets back when a reload
// drops curve_preferences.
constexpr char kDefaultGroups[] = "X25519:P-256:X448:P-521:P-384:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192";

std::string_view openssl_group(std::string_view go_name) {
  if (go_name == "CurveP256") return "P-256";
  if (go_name == "CurveP384") return "P-384";
  if (go_name == "CurveP521") return "P-521";
  if (go_name == "X25519") return "X25519";
  return {};
}

/// Go's (IANA) cipher suite names into OpenSSL's, split by protocol version; false + `error` when this
/// OpenSSL does not offer one.
bool resolve_ciphers(const std::vector<std::string>& names, ServerTls& out, std::string* error) {
  const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> all(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!all || SSL_CTX_set_cipher_list(all.get(), "ALL:COMPLEMENTOFALL:@SECLEVEL=0") != 1) {
    return fail(error, "cannot list OpenSSL's cipher suites");
  }
  const STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(all.get());
  for (const std::string& name : names) {
    const SSL_CIPHER* found = nullptr;
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers) && !found; ++i) {
      const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
      const char* standard = SSL_CIPHER_standard_name(cipher);
      if (standard && name == standard) found = cipher;
    }
    if (!found) return fail(error, "cipher suite " + name + " is not available in this OpenSSL");
    std::string& list = std::string_view(SSL_CIPHER_get_version(found)) == "TLSv1.3" ? out.tls13_ciphers : out.tls12_ciphers;
    list += (list.empty() ? "" : ":") + std::string(SSL_CIPHER_get_name(found));
  }
  return true;
}

/// The settings SSL_new copies from a context, onto one connection.
bool apply_connection_settings(SSL* ssl, const ServerTls& tls) {
  SSL_CTX* context = tls.context.get();
  SSL_set_verify(ssl, SSL_CTX_get_verify_mode(context), SSL_CTX_get_verify_callback(context));
  SSL_clear_options(ssl, SSL_get_options(ssl));
  SSL_set_options(ssl, SSL_CTX_get_options(context));
  return SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(context)) == 1 &&
         SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(context)) == 1 &&
         SSL_set_cipher_list(ssl, tls.tls12_ciphers.c_str()) == 1 &&
         SSL_set_ciphersuites(ssl, tls.tls13_ciphers.c_str()) == 1 && SSL_set1_groups_list(ssl, tls.groups.c_str()) == 1;
}

int on_client_hello(SSL* ssl, int* alert, void* arg) {
  const std::shared_ptr<const ServerTls> tls = static_cast<const TlsSource*>(arg)->current_tls();
  if (!tls) return SSL_CLIENT_HELLO_SUCCESS;
  if ((SSL_get_SSL_CTX(ssl) != tls->context.get() && SSL_set_SSL_CTX(ssl, tls->context.get()) == nullptr) ||
      !apply_connection_settings(ssl, *tls)) {
    ERR_clear_error();
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

/// civetweb's SNI callback would SSL_set_SSL_CTX() back to its own context; with one domain there is
/// nothing to choose.
int on_server_name(SSL* /*ssl*/, int* /*alert*/, void* /*arg*/) { return SSL_TLSEXT_ERR_NOACK; }

/// Resolves `tls` into the context-independent settings; false + `error` on an unknown name.
bool resolve(const TlsConfig& tls, ServerTls& out, std::string* error) {
  if (!resolve_ciphers(tls.cipher_suites, out, error)) return false;
  if (out.tls12_ciphers.empty()) out.tls12_ciphers = OSSL_default_cipher_list();
  if (out.tls13_ciphers.empty()) out.tls13_ciphers = OSSL_default_ciphersuites();
  for (const std::string& curve : tls.curve_preferences) {
    const std::string_view group = openssl_group(curve);
    if (group.empty()) return fail(error, "unknown curve " + curve + " (CurveP256, CurveP384, CurveP521 or X25519)");
    out.groups += (out.groups.empty() ? "" : ":") + std::string(group);
  }
  if (out.groups.empty()) out.groups = kDefaultGroups;
  return true;
}

}  // namespace

bool configure_tls_context(SSL_CTX* context, const TlsConfig& tls, std::string* error) {
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(context, tls.cert_file.c_str()) != 1) {
    return fail(error, "cannot load the TLS certificate " + tls.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(context, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail(error, "cannot load the TLS key " + tls.key_file);
  }
  if (SSL_CTX_check_private_key(context) != 1) {
    return fail(error, "the TLS key " + tls.key_file + " does not match the certificate " + tls.cert_file);
  }
  const int min_version = tls.min_version == "TLS13" ? TLS1_3_VERSION : TLS1_2_VERSION;
  const int max_version = tls.max_version == "TLS12" ? TLS1_2_VERSION : TLS1_3_VERSION;
  if (min_version > max_version) return fail(error, "min_version TLS13 is above max_version TLS12");
  if (SSL_CTX_set_min_proto_version(context, min_version) != 1 ||
      SSL_CTX_set_max_proto_version(context, max_version) != 1) {
    return fail(error, "cannot set the TLS versions");
  }
  ServerTls lists;
  if (!resolve(tls, lists, error)) return false;
  if (SSL_CTX_set_cipher_list(context, lists.tls12_ciphers.c_str()) != 1 ||
      SSL_CTX_set_ciphersuites(context, lists.tls13_ciphers.c_str()) != 1) {
    return fail(error, "cannot set the cipher suites");
  }
  if (SSL_CTX_set1_groups_list(context, lists.groups.c_str()) != 1) return fail(error, "cannot set the curve preferences");
  // civetweb sets SSL_OP_CIPHER_SERVER_PREFERENCE on its context; exporter-toolkit's default is true too.
  if (tls.prefer_server_cipher_suites) {
    SSL_CTX_set_options(context, SSL_OP_CIPHER_SERVER_PREFERENCE);
  } else {
    SSL_CTX_clear_options(context, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  // Resumed sessions with client certificates fail without a session id context.
  SSL_CTX_set_session_id_context(context, kSessionContext, sizeof kSessionContext - 1);

  const std::string& type = tls.client_auth_type;
  const bool verifies = type == "VerifyClientCertIfGiven" || type == "RequireAndVerifyClientCert";
  const bool requires_cert = type == "RequireAnyClientCert" || type == "RequireAndVerifyClientCert";
  const bool requests = verifies || requires_cert || type == "RequestClientCert";
  if (!requests && !type.empty() && type != "NoClientCert") {
    return fail(error, "unknown client_auth_type \"" + type + "\"");
  }
  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(context, tls.client_ca_file.c_str(), nullptr) != 1) {
      return fail(error, "cannot load the client CA file " + tls.client_ca_file);
    }
    // Tells clients which CAs are accepted; the context takes ownership of the list.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(context, names);
    }
  } else if (verifies) {
    return fail(error, "client_auth_type " + type + " needs client_ca_file");
  }
  int mode = SSL_VERIFY_NONE;
  if (requests) mode = SSL_VERIFY_PEER | (requires_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
  SSL_CTX_set_verify(context, mode, verifies ? nullptr : accept_any_certificate);
  ERR_clear_error();
  return true;
}

std::shared_ptr<const ServerTls> make_server_tls(const TlsConfig& tls, std::string* error) {
  auto server = std::make_shared<ServerTls>();
  server->context.reset(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!server->context) {
    fail(error, "cannot create a TLS context");
    return nullptr;
  }
  if (!configure_tls_context(server->context.get(), tls, error) || !resolve(tls, *server, error)) return nullptr;
  return server;
}

void follow_current_tls(SSL_CTX* civetweb_context, const TlsSource* source) {
  SSL_CTX_set_client_hello_cb(civetweb_context, on_client_hello, const_cast<TlsSource*>(source));
  SSL_CTX_set_tlsext_servername_callback(civetweb_context, on_server_name);
}

}  // namespace procevents::http
