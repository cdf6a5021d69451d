#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
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

int accept_any_certificate(int /*preverify_ok*/, X509_STORE_CTX* /*store*/) { return 1; }

/// Cipher suites and groups in OpenSSL's names, ':'-separated.
struct TlsLists {
  std::string tls12_ciphers;
  std::string tls13_ciphers;
  std::string groups;
};

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
bool resolve_ciphers(const std::vector<std::string>& names, TlsLists& out, std::string* error) {
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

/// Resolves `tls` into the context-independent settings; false + `error` on an unknown name.
bool resolve(const TlsConfig& tls, TlsLists& out, std::string* error) {
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
  TlsLists lists;
  if (!resolve(tls, lists, error)) return false;
  if (SSL_CTX_set_cipher_list(context, lists.tls12_ciphers.c_str()) != 1 ||
      SSL_CTX_set_ciphersuites(context, lists.tls13_ciphers.c_str()) != 1) {
    return fail(error, "cannot set the cipher suites");
  }
  if (SSL_CTX_set1_groups_list(context, lists.groups.c_str()) != 1) return fail(error, "cannot set the curve preferences");
  // exporter-toolkit's default is true.
  if (tls.prefer_server_cipher_suites) {
    SSL_CTX_set_options(context, SSL_OP_CIPHER_SERVER_PREFERENCE);
  } else {
    SSL_CTX_clear_options(context, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
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

}  // namespace procevents::http
