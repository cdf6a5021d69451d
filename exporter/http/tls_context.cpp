#include "http/tls_context.h"

#include <civetweb.h>
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <memory>
#include <mutex>

namespace procevents::http {

namespace {

constexpr char kShimName[] = "procevents_civetweb_ssl.so";
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

std::string load_ssl_shim() {
  char exe[4096];
  const ssize_t length = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (length <= 0) return "cannot locate the executable to find " + std::string(kShimName);
  std::string path(exe, static_cast<std::size_t>(length));
  path = path.substr(0, path.rfind('/') + 1) + kShimName;
  // RTLD_GLOBAL + the shim's SONAME "libssl.so": civetweb's later dlopen("libssl.so") returns this object.
  void* shim = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!shim) {
    const char* why = ::dlerror();
    return "cannot load " + path + " (civetweb needs it for TLS with OpenSSL 3): " + (why ? why : "unknown error");
  }
  if (::dlsym(shim, "SSL_get_peer_certificate") == nullptr || ::dlsym(shim, "SSL_CTX_new") == nullptr) {
    return path + " does not provide the OpenSSL functions civetweb looks up";
  }
  return "";
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
      tls_error = load_ssl_shim();
    }
    // civetweb counts init calls, sets up OpenSSL on the first one that asks for TLS, and returns the
    // features it managed to initialise.
    if (tls_error.empty() && (mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS) == 0) {
      tls_error = "civetweb could not initialise OpenSSL (it dlopen()s \"libssl.so\" and \"libcrypto.so\": "
                  "on Debian those names come with libssl-dev)";
    }
  }
  if (!tls_error.empty()) {
    if (error) *error = tls_error;
    return false;
  }
  return true;
}

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
  if (SSL_CTX_set_min_proto_version(context, min_version) != 1) return fail(error, "cannot set the TLS minimum version");
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

bool check_tls_config(const TlsConfig& tls, std::string* error) {
  const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> scratch(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!scratch) return fail(error, "cannot create a TLS context");
  return configure_tls_context(scratch.get(), tls, error);
}

}  // namespace procevents::http
