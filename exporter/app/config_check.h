// --config.check: load --config.file (and --web.config.file when given) as a start would, report,
// and serve nothing. For CI pipelines and for a ConfigMap change before the SIGHUP.
#pragma once

#include <cstdio>

#include "app/flags.h"

namespace procevents::app {

/// Exit status 0 with a one-line summary on `out`, or 2 with one "file:line:col: reason" line per error
/// on `err`. Warnings go to `err` as "file: warning: ..." and do not fail the check.
int run_config_check(const Flags& flags, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace procevents::app
