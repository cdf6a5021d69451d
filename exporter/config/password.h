// Password checks against bcrypt hashes (exporter-toolkit's basic_auth_users), via libxcrypt.
#pragma once

#include <string_view>

namespace procevents::config {

/// True when `hash` looks like a bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 more characters).
bool looks_like_bcrypt(std::string_view hash);

/// True when `password` matches `bcrypt_hash`. Constant-time comparison; false on garbage hashes.
/// Deliberately slow (bcrypt): callers should cache successful checks.
bool verify_password(std::string_view password, std::string_view bcrypt_hash);

}  // namespace procevents::config
