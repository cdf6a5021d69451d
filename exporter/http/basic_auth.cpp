#include "http/basic_auth.h"

#include <openssl/evp.h>

#include "http/password.h"

namespace procevents::http {

namespace {

bool starts_with_basic(std::string_view header) {
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  static constexpr std::string_view kScheme = "basic ";
  if (header.size() < kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = header[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != kScheme[i]) return false;
  }
  return true;
}

// SHA-256 of user, password and hash, NUL-separated so ("a:b", "c") and ("a", "b:c") differ; the hash is
// included so a changed hash never matches an old entry.
std::string cache_key(std::string_view user, std::string_view password, std::string_view hash) {
  std::string material;
  material.reserve(user.size() + password.size() + hash.size() + 2);
  material.append(user).push_back('\0');
  material.append(password).push_back('\0');
  material.append(hash);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(material.data(), material.size(), digest, &length, EVP_sha256(), nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace

bool base64_decode(std::string_view in, std::string* out) {
  out->clear();
  unsigned value = 0;
  int bits = 0;
  bool padding = false;
  for (const char c : in) {
    int digit;
    if (c >= 'A' && c <= 'Z') digit = c - 'A';
    else if (c >= 'a' && c <= 'z') digit = c - 'a' + 26;
    else if (c >= '0' && c <= '9') digit = c - '0' + 52;
    else if (c == '+') digit = 62;
    else if (c == '/') digit = 63;
    else if (c == '=') { padding = true; continue; }
    else return false;
    if (padding) return false;  // data after padding
    value = ((value << 6) | static_cast<unsigned>(digit)) & 0xFFFFFFu;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((value >> bits) & 0xFF));
    }
  }
  return true;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}

bool BasicAuth::check(std::string_view authorization) {
  if (users_.empty()) return true;
  if (!starts_with_basic(authorization)) return false;
  std::string_view encoded = authorization.substr(6);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  std::string decoded;
  if (!base64_decode(encoded, &decoded)) return false;
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  const std::string_view user = std::string_view(decoded).substr(0, colon);
  const std::string_view password = std::string_view(decoded).substr(colon + 1);

  const auto it = users_.find(std::string(user));
  if (it == users_.end()) {
    // Same cost as a wrong password, so response time does not tell whether the user exists.
    (void)verify_password(password, users_.begin()->second);
    return false;
  }
  const std::string key = cache_key(user, password, it->second);
  if (!key.empty()) {
    std::lock_guard lock(mutex_);
    if (verified_.count(key)) return true;
  }
  // bcrypt runs unlocked: concurrent first logins must not queue behind each other.
  if (!verify_password(password, it->second)) return false;
  if (!key.empty()) {
    std::lock_guard lock(mutex_);
    if (verified_.size() >= kMaxCached) verified_.clear();
    verified_.insert(key);
  }
  return true;
}

}  // namespace procevents::http
