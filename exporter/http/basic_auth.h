// HTTP Basic authentication against exporter-toolkit's basic_auth_users (user -> bcrypt hash).
// Internal to the http layer.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace procevents::http {

/// Thread-safe: check() may run on every server thread at once.
class BasicAuth {
 public:
  /// `users` maps a user name to a bcrypt hash ($2a$/$2b$/$2y$). An empty map disables authentication.
  explicit BasicAuth(std::map<std::string, std::string> users);

  bool enabled() const { return !users_.empty(); }

  /// True when authentication is disabled, or `authorization` (the Authorization header value; empty if
  /// absent) is "Basic base64(user:password)" with a known user whose bcrypt hash the password matches.
  /// bcrypt is slow by design (~50 ms at cost 10), so a success is remembered (as a SHA-256 digest, never
  /// the password) and the same credentials are then accepted without bcrypt. Failures are not
  /// remembered; an unknown user still costs one bcrypt, so timing does not reveal which users exist.
  bool check(std::string_view authorization);

  /// Successful credentials remembered at most; the cache is emptied when full, so memory stays bounded
  /// however many users and passwords clients try.
  static constexpr std::size_t kMaxCached = 1024;

 private:
  const std::map<std::string, std::string> users_;
  std::mutex mutex_;
  std::unordered_set<std::string> verified_;  // guarded by mutex_
};

/// Standard base64 (RFC 4648, '=' padding optional) into `out`; false on any other character. Pure.
bool base64_decode(std::string_view in, std::string* out);

}  // namespace procevents::http
