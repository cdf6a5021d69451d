// The one bound on command lines: procfs reads no more of /proc/<pid>/cmdline, and naming's cmdline
// regexes see no more of argv joined by spaces.
#pragma once

#include <cstddef>

namespace procevents {

inline constexpr std::size_t kMaxCmdlineBytes = 4096;

}  // namespace procevents
