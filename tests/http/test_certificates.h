// Throwaway PKI for the TLS tests, made with the OpenSSL API (no openssl CLI, nothing downloaded).
#pragma once

#include <string>

namespace procevents::http::test {

/// A mkdtemp() directory, removed with its files on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Files (PEM) written into `dir`: a CA, a server certificate it signed (SAN 127.0.0.1 and localhost), a client
/// certificate it signed, and a self-signed "rogue" client certificate nobody trusts. EC P-256 keys.
struct TestPki {
  explicit TestPki(const TempDir& dir);
  bool ok = false;  // false if any OpenSSL call failed
  std::string ca_cert, server_cert, server_key, client_cert, client_key, rogue_cert, rogue_key;
};

}  // namespace procevents::http::test
