// `procevents_exporter --healthcheck=http://127.0.0.1:9662/healthz`: a dependency-free HTTP probe for
// container HEALTHCHECKs (the runtime image has no shell and no curl).
#pragma once

#include <string>

namespace procevents::app {

/// Returns 0 when GET `url` (plain http://host:port/path, IPv4) answers 200 within 5 s, else 1.
int run_healthcheck(const std::string& url);

}  // namespace procevents::app
