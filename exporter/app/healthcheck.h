// `procevents_exporter --healthcheck=http://127.0.0.1:9662/healthz`: a dependency-free HTTP probe for
// container HEALTHCHECKs (the runtime image has no shell and no curl).
#pragma once

#include <string>

namespace procevents::app {

/// Returns 0 when GET `url` (http:// or https://host:port/path, numeric IPv4) answers 200 within 5 s, else 1.
/// https:// does not verify the certificate (it probes the local exporter). An http:// URL that gets no
/// HTTP answer is tried once more over TLS, so the image's HEALTHCHECK works whether or not the web
/// config turns TLS on; /healthz needs no credentials even with basic auth.
int run_healthcheck(const std::string& url);

}  // namespace procevents::app
