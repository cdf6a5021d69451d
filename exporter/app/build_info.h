// The build's identity (version.h, generated from the top-level CMakeLists.txt) in the two shapes
// the Prometheus ecosystem shows it: `--version` (prometheus/common's version.Print) and the labels of
// procevents_build_info.
#pragma once

#include <string>

#include "metrics/exposition.h"

namespace procevents::app {

/// procevents_build_info's labels for this binary.
metrics::BuildInfo build_info();

/// What --version prints, e.g.
///   procevents_exporter, version 0.1.0 (branch: main, revision: 0123abcd...)
///     build date:       20261201-22:40:00
///     compiler:         GNU 12.2.0
///     platform:         linux/amd64
std::string version_text();

}  // namespace procevents::app
