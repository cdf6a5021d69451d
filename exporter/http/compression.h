// Content-Encoding negotiation and gzip for the scrape body. Internal to the http layer.
#pragma once

#include <string>
#include <string_view>

namespace procevents::http {

/// True when an Accept-Encoding value accepts gzip: a "gzip" (or "x-gzip") token, case-insensitive,
/// whose q-value is not 0 ("gzip;q=0" refuses it). Pure; thread-safe.
bool accepts_gzip(std::string_view accept_encoding);

/// `input` as one gzip member (RFC 1952) in `out`. False only if zlib fails (out of memory) or the input
/// exceeds zlib's 4 GiB single-call limit; `out` is then unspecified. Thread-safe.
bool gzip_compress(std::string_view input, std::string* out);

}  // namespace procevents::http
