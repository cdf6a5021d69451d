/* Debian's civetweb 1.15 also loads dlopen("libcrypto.so"), a name only libssl-dev provides. This module's
 * SONAME is "libcrypto.so" and it depends on the real libcrypto: loaded with RTLD_GLOBAL before civetweb
 * initialises TLS, it is what that dlopen() returns, and civetweb's dlsym() lookups find every function
 * through the dependency. So neither the Debian package nor the image needs libssl-dev or symlinks. */
int procevents_civetweb_crypto_shim;  // a module needs something in it
