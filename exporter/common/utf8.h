// UTF-8 checks: config files must be UTF-8, and label values (group names, attribution values) are
// made UTF-8 where they are produced.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace procevents {

/// Byte offset of the first byte that does not begin a well-formed UTF-8 sequence, or npos.
/// Strict (RFC 3629): overlong forms, surrogates and code points above U+10FFFF are invalid.
std::size_t find_invalid_utf8(std::string_view text) noexcept;

/// Appends `text` to `out`, each byte of an ill-formed sequence replaced by U+FFFD. Prometheus refuses
/// a whole scrape over one label value that is not UTF-8, and comm/argv are arbitrary bytes.
void append_valid_utf8(std::string& out, std::string_view text);

/// As append_valid_utf8(), in place. Valid text (the usual case) is left as it is, without allocating.
void make_valid_utf8(std::string& text);

}  // namespace procevents
