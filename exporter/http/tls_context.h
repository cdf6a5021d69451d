// The server SSL_CTX settings from the exporter-toolkit tls_server_config. Internal to the http layer
// (OpenSSL types stay out of http_server.h).
#pragma once

#include <openssl/types.h>

#include <string>

#include "http/web_config.h"

namespace procevents::http {

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
/// including a cipher suite this OpenSSL does not offer. Idle connections release their buffers
/// (SSL_MODE_RELEASE_BUFFERS): a thousand of them cost kilobytes each, not 34 KiB. Thread-safe for distinct
/// contexts.
bool configure_tls_context(SSL_CTX* context, const TlsConfig& tls, std::string* error);

}  // namespace procevents::http
