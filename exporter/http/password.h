// Password checks against bcrypt hashes (exporter-toolkit's basic_auth_users), via libxcrypt.
#pragma once

#include <string_view>

namespace procevents::http {

/// True when `hash` has the shape of a bcrypt hash: $2a$, $2b$ or $2y$, a two-digit cost from 04
/// to 31, '$', then 53 characters of bcrypt's base64 alphabet (60 in all).
bool looks_like_bcrypt(std::string_view hash) noexcept;

/// True when `password` matches `bcrypt_hash`. The computed hash is compared in constant time.
/// False for garbage or non-bcrypt hashes, passwords longer than 72 bytes (bcrypt's limit) and
/// passwords containing NUL. Deliberately slow (bcrypt, about 50 ms at cost 10): callers should
/// cache successful checks. Thread-safe.
bool verify_password(std::string_view password, std::string_view bcrypt_hash);

}  // namespace procevents::http
