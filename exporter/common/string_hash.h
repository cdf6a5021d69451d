// A transparent hash for std::string keys: lets unordered containers find() by std::string_view
// without building a std::string, which keeps lookups on the aggregator's path allocation-free.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace procevents {

struct TransparentStringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace procevents
