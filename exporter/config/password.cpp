#include "config/password.h"

#include <crypt.h>

#include <memory>
#include <string>

namespace procevents::config {

bool looks_like_bcrypt(std::string_view hash) {
  return hash.size() == 60 && hash[0] == '$' && hash[1] == '2' &&
         (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') && hash[3] == '$';
}

bool verify_password(std::string_view password, std::string_view bcrypt_hash) {
  if (!looks_like_bcrypt(bcrypt_hash) || password.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on the stack of a web thread
  const std::string key(password);
  const std::string setting(bcrypt_hash);
  const char* computed = crypt_r(key.c_str(), setting.c_str(), data.get());
  if (!computed || computed[0] == '*') return false;  // libxcrypt signals failure with "*0"/"*1"
  const std::string_view result(computed);
  if (result.size() != bcrypt_hash.size()) return false;
  unsigned char difference = 0;  // constant time: no early exit on the first differing byte
  for (std::size_t i = 0; i < result.size(); ++i) {
    difference |= static_cast<unsigned char>(result[i] ^ bcrypt_hash[i]);
  }
  return difference == 0;
}

}  // namespace procevents::config
