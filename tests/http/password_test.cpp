// bcrypt password checks (basic_auth_users) through libxcrypt.
#include <catch2/catch.hpp>

#include <crypt.h>

#include <memory>
#include <string>

#include "http/password.h"

using namespace procevents::http;

TEST_CASE("bcrypt passwords verify, wrong ones and garbage hashes do not", "[http][password]") {
  for (const char* prefix : {"$2b$", "$2y$"}) {
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    REQUIRE(crypt_gensalt_rn(prefix, 4, nullptr, 0, salt, sizeof salt));
    auto data = std::make_unique<crypt_data>();
    const std::string hash = crypt_r("s3cret", salt, data.get());
    REQUIRE(looks_like_bcrypt(hash));
    CHECK(verify_password("s3cret", hash));
    CHECK_FALSE(verify_password("s3cret ", hash));
    CHECK_FALSE(verify_password("", hash));
    CHECK_FALSE(verify_password(std::string("s3cret\0x", 8), hash));  // NUL would truncate
  }
  CHECK_FALSE(verify_password("x", "not a hash"));
  CHECK_FALSE(verify_password("x", "$2y$10$tooshort"));
  CHECK_FALSE(looks_like_bcrypt("$2y$03$abcdefghijklmnopqrstuuYx9Y7n1Jw5rY5m5m5m5m5m5m5m5m5m5"));  // cost < 4
  CHECK_FALSE(looks_like_bcrypt("$1$abcdefgh$abcdefghijklmnopqrstuv"));
}
