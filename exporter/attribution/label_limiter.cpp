#include "attribution/label_limiter.h"

namespace procevents::attribution {

std::string_view LabelLimiter::admit(std::string_view value) {
  if (value.empty()) return {};
  if (const auto it = admitted_.find(value); it != admitted_.end()) return *it;
  if (admitted_.size() >= limit_) {
    ++overflows_;
    return kOverflowLabelValue;
  }
  return *admitted_.emplace(value).first;
}

}  // namespace procevents::attribution
