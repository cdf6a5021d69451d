#include "procfs/user_names.h"

#include <pwd.h>

#include <cerrno>

#include "common/utf8.h"

namespace procevents::procfs {

namespace {
constexpr std::size_t kInitialBuffer = 1024;
constexpr std::size_t kMaxBuffer = 1 << 20;  // a passwd entry larger than this is not worth naming
}  // namespace

std::string_view UserNames::name_for(std::uint32_t uid) {
  if (auto it = names_.find(uid); it != names_.end()) return it->second;
  if (names_.size() >= capacity_) names_.clear();

  if (scratch_.empty()) scratch_.resize(kInitialBuffer);
  passwd entry{};
  passwd* found = nullptr;
  int error = 0;
  while ((error = ::getpwuid_r(uid, &entry, scratch_.data(), scratch_.size(), &found)) == ERANGE &&
         scratch_.size() < kMaxBuffer) {
    scratch_.resize(scratch_.size() * 2);
  }
  std::string name;
  if (error == 0 && found != nullptr && found->pw_name != nullptr && found->pw_name[0] != '\0') {
    name = found->pw_name;
  } else {
    name = std::to_string(uid);  // unknown, or NSS failed: the number is still a useful label
  }
  make_valid_utf8(name);  // a label value: Prometheus refuses a scrape over one that is not UTF-8
  return names_.emplace(uid, std::move(name)).first->second;
}

}  // namespace procevents::procfs
