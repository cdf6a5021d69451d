// TLS for civetweb: making the system library usable, and the server SSL_CTX settings from the
// exporter-toolkit tls_server_config. Internal to the http layer (OpenSSL types stay out of http_server.h).
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>

#include "http/web_config.h"

namespace procevents::http {

/// Initialises civetweb once per process; with `tls`, first makes its OpenSSL usable (see
/// civetweb_ssl_shim.c and civetweb_crypto_shim.c: procevents_civetweb_ssl.so and procevents_civetweb_crypto.so
/// sit next to the executable or in ../lib/procevents_exporter/). Later calls with `tls` upgrade a plain
/// initialisation. Thread-safe. False + `error` when TLS cannot work.
bool init_civetweb_library(bool tls, std::string* error);

/// Applies `tls` to a server context: certificate chain and key (checked to match), protocol versions
/// (min TLS12 unless "TLS13", max TLS13 unless "TLS12"), cipher suites (TLS 1.2 and TLS 1.3 names each
/// restrict their own version; a version none is listed for keeps OpenSSL's defaults), curve preferences
/// (the groups offered for key exchange), server cipher preference, and client certificates per
/// client_auth_type with exporter-toolkit's meaning:
///   NoClientCert                none requested
///   RequestClientCert           requested, not required, not verified
///   RequireAnyClientCert        required, not verified
///   VerifyClientCertIfGiven     requested, verified against client_ca_file if sent
///   RequireAndVerifyClientCert  required and verified against client_ca_file
/// The two verifying types need client_ca_file. False + `error` (with OpenSSL's reason) on any failure,
/// including a cipher suite this OpenSSL does not offer. Thread-safe for distinct contexts.
bool configure_tls_context(SSL_CTX* context, const TlsConfig& tls, std::string* error);

/// A server context configured from a TlsConfig, with the settings each handshake copies from it (SSL_new
/// copies them from the context a connection starts on, SSL_set_SSL_CTX does not).
struct ServerTls {
  std::shared_ptr<SSL_CTX> context;
  std::string tls12_ciphers;  // OpenSSL's names, ':'-separated
  std::string tls13_ciphers;
  std::string groups;
};

/// A fresh context for `tls`; null + `error` as configure_tls_context. Bad files fail start() or a reload
/// with a clear message rather than civetweb's generic one.
std::shared_ptr<const ServerTls> make_server_tls(const TlsConfig& tls, std::string* error);

/// Where a handshake finds the configuration in force at that moment. Thread-safe.
class TlsSource {
 public:
  virtual ~TlsSource() = default;
  virtual std::shared_ptr<const ServerTls> current_tls() const = 0;
};

/// Makes every handshake on `civetweb_context` use `source->current_tls()` from its ClientHello on: certificate,
/// key and client CAs (SSL_set_SSL_CTX) and the per-connection settings SSL_new copied from the old
/// context (versions, verification, options, ciphers, groups). So a reloaded web config applies to the
/// next connection while connections already open (a scrape in flight) keep theirs. Also replaces
/// civetweb's SNI callback, which would switch back to civetweb's own context (one domain here).
/// `source` must outlive the context.
void follow_current_tls(SSL_CTX* civetweb_context, const TlsSource* source);

}  // namespace procevents::http
