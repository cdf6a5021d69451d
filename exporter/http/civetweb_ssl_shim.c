/* Debian's civetweb 1.15 loads OpenSSL with dlopen("libssl.so") and looks functions up by name,
 * including SSL_get_peer_certificate, which OpenSSL 3 no longer exports (it became a macro for
 * SSL_get1_peer_certificate). The lookup yields NULL and civetweb calls it after every TLS handshake.
 *
 * This module's SONAME is "libssl.so": loaded with RTLD_GLOBAL before civetweb initialises TLS, it is
 * what civetweb's dlopen("libssl.so") returns; every other symbol resolves through its dependency on
 * the real libssl. The old function keeps its old semantics (it always returned a new reference). */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate
X509* SSL_get_peer_certificate(const SSL* ssl);
X509* SSL_get_peer_certificate(const SSL* ssl) { return SSL_get1_peer_certificate(ssl); }
