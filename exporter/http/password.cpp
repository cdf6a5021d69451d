#include "http/password.h"

#include <crypt.h>

#include <memory>
#include <string>

namespace procevents::http {

bool looks_like_bcrypt(std::string_view hash) noexcept {
  static constexpr std::string_view kAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (hash.size() != 60 || hash.substr(0, 2) != "$2" || hash[3] != '$' || hash[6] != '$') return false;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  if (hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9') return false;
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  for (const char c : hash.substr(7)) {
    if (kAlphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool verify_password(std::string_view password, std::string_view bcrypt_hash) {
  // bcrypt reads 72 bytes at most; like Go's x/crypto/bcrypt, refuse longer passwords instead of
  // accepting every password that shares the first 72 bytes.
  if (!looks_like_bcrypt(bcrypt_hash) || password.size() > 72 || password.find('\0') != std::string_view::npos) {
    return false;
  }
  auto data = std::make_unique<crypt_data>();  // about 32 KiB: not on a web thread's stack
  const std::string key(password);
  const std::string setting(bcrypt_hash);
  const char* computed = crypt_r(key.c_str(), setting.c_str(), data.get());
  if (!computed || computed[0] == '*') return false;  // libxcrypt signals failure with "*0" or "*1"
  const std::string_view result(computed);
  if (result.size() != bcrypt_hash.size()) return false;
  unsigned char difference = 0;  // no early exit on the first differing byte
  for (std::size_t i = 0; i < result.size(); ++i) {
    difference |= static_cast<unsigned char>(result[i] ^ bcrypt_hash[i]);
  }
  return difference == 0;
}

}  // namespace procevents::http
