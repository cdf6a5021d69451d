// A failed system call as a value: errno plus the call's name. Errors at the kernel boundary are
// returned, never thrown, so the receiver thread has no exception paths.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

namespace procevents {

struct SysError {
  int code = 0;           // errno; 0 means success
  std::string_view call;  // static string, e.g. "bind(NETLINK_CONNECTOR)"
  explicit operator bool() const noexcept { return code != 0; }
  /// "bind(NETLINK_CONNECTOR): Operation not permitted"
  std::string message() const {
    std::string text(call);
    text += ": ";
    text += std::strerror(code);
    return text;
  }
};

}  // namespace procevents
