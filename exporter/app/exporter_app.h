// The exporter's lifecycle: config -> connector -> self-check -> receiver -> aggregator -> HTTP,
// then a signal loop (SIGHUP reload, SIGTERM/SIGINT stop). Wiring only; the layers hold the logic.
#pragma once

#include "app/flags.h"

namespace procevents::app {

/// Exit codes: 0 clean stop, 1 runtime failure (connector, self-check, HTTP bind), 2 bad flags/config.
int run_exporter(const Flags& flags);

}  // namespace procevents::app
