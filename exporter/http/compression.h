// Content negotiation for the scrape (media type and Content-Encoding) and gzip. Internal to the http layer.
#pragma once

#include <string>
#include <string_view>

namespace procevents::http {

/// True when an Accept-Encoding value accepts gzip: a "gzip" (or "x-gzip") token, case-insensitive,
/// whose q-value is not 0 ("gzip;q=0" refuses it). Pure; thread-safe.
bool accepts_gzip(std::string_view accept_encoding);

/// True when an Accept value prefers the protobuf exposition: an application/vnd.google.protobuf range with
/// proto=io.prometheus.client.MetricFamily and encoding=delimited, whose q is above 0, above every range
/// listed before it and at least that of every range after it (anything else is answered with text, as
/// the Go client does). Pure; thread-safe.
bool prefers_protobuf(std::string_view accept);

/// `input` as one gzip member (RFC 1952) in `out`. False only if zlib fails (out of memory) or the input
/// exceeds zlib's 4 GiB single-call limit; `out` is then unspecified. Thread-safe.
bool gzip_compress(std::string_view input, std::string* out);

}  // namespace procevents::http
