// The one bound on command lines: procfs reads no more of /proc/<pid>/cmdline, and naming's cmdline
// regexes see no more of argv joined by spaces.
#pragma once

#include <cstddef>

namespace procevents {

// process-exporter matches whole command lines, and Java classpaths run to tens of kilobytes; the
// kernel's own bound on argv is a quarter of the stack limit (2 MiB by default). Buffers grow to
// what a host's longest command line needs, not to this bound.
inline constexpr std::size_t kMaxCmdlineBytes = 1 << 20;

}  // namespace procevents
