#include "test_certificates.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

namespace procevents::http::test {

namespace {

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

Key make_key() { return Key(EVP_EC_gen("P-256"), &EVP_PKEY_free); }

bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (!extension) return false;
  const bool added = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

// Signed by (issuer, issuer_key), or self-signed when issuer is null.
Cert make_cert(const char* common_name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca, long serial) {
  Cert cert(X509_new(), &X509_free);
  if (!cert) return cert;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  bool ok = add_extension(cert.get(), signer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (ca) {
    ok = ok && add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok = ok && add_extension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  }
  if (!ok || X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) <= 0) return Cert(nullptr, &X509_free);
  return cert;
}

bool write_cert(const std::string& path, X509* cert) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (!file) return false;
  const bool ok = PEM_write_X509(file, cert) == 1;
  return std::fclose(file) == 0 && ok;
}

bool write_key(const std::string& path, EVP_PKEY* key) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (!file) return false;
  const bool ok = PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  return std::fclose(file) == 0 && ok;
}

}  // namespace

TempDir::TempDir() {
  char pattern[] = "/tmp/procevents_http_test.XXXXXX";
  if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  if (DIR* dir = ::opendir(path_.c_str())) {
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    for (const std::string& name : names) ::unlink(file(name).c_str());
  }
  ::rmdir(path_.c_str());
}

TestPki::TestPki(const TempDir& dir)
    : ca_cert(dir.file("ca.pem")),
      server_cert(dir.file("server.pem")),
      server_key(dir.file("server.key")),
      client_cert(dir.file("client.pem")),
      client_key(dir.file("client.key")),
      rogue_cert(dir.file("rogue.pem")),
      rogue_key(dir.file("rogue.key")) {
  const Key ca_key = make_key(), server_key_pair = make_key(), client_key_pair = make_key(), rogue_key_pair = make_key();
  if (!ca_key || !server_key_pair || !client_key_pair || !rogue_key_pair) return;
  const Cert ca = make_cert("procevents test CA", ca_key.get(), nullptr, nullptr, true, 1);
  if (!ca) return;
  const Cert server = make_cert("localhost", server_key_pair.get(), ca.get(), ca_key.get(), false, 2);
  const Cert client = make_cert("scraper", client_key_pair.get(), ca.get(), ca_key.get(), false, 3);
  const Cert rogue = make_cert("rogue", rogue_key_pair.get(), nullptr, nullptr, false, 4);
  if (!server || !client || !rogue) return;
  ok = write_cert(ca_cert, ca.get()) && write_cert(server_cert, server.get()) &&
       write_key(server_key, server_key_pair.get()) && write_cert(client_cert, client.get()) &&
       write_key(client_key, client_key_pair.get()) && write_cert(rogue_cert, rogue.get()) &&
       write_key(rogue_key, rogue_key_pair.get());
}

}  // namespace procevents::http::test
