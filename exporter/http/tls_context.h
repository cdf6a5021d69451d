// TLS for civetweb: making the system library usable, and the server SSL_CTX settings from the
// exporter-toolkit tls_server_config. Internal to the http layer (OpenSSL types stay out of http_server.h).
#pragma once

#include <openssl/types.h>

#include <string>

#include "http/web_config.h"

namespace procevents::http {

/// Initialises civetweb once per process; with `tls`, first makes its OpenSSL usable (see
/// civetweb_ssl_shim.c: procevents_civetweb_ssl.so must sit next to the executable). Later calls with
/// `tls` upgrade a plain initialisation. Thread-safe. False + `error` when TLS cannot work.
bool init_civetweb_library(bool tls, std::string* error);

/// Applies `tls` to a server context: certificate chain and key (checked to match), minimum version
/// (TLS12 unless "TLS13"), client certificates per client_auth_type with exporter-toolkit's meaning:
///   NoClientCert                none requested
///   RequestClientCert           requested, not required, not verified
///   RequireAnyClientCert        required, not verified
///   VerifyClientCertIfGiven     requested, verified against client_ca_file if sent
///   RequireAndVerifyClientCert  required and verified against client_ca_file
/// The two verifying types need client_ca_file. False + `error` (with OpenSSL's reason) on any failure.
/// Thread-safe for distinct contexts.
bool configure_tls_context(SSL_CTX* context, const TlsConfig& tls, std::string* error);

/// Runs configure_tls_context on a scratch context, so bad files fail start() with a clear message
/// rather than civetweb's generic one.
bool check_tls_config(const TlsConfig& tls, std::string* error);

}  // namespace procevents::http
