// UTF-8 checks shared by the loaders (files must be UTF-8) and the group namer (label values must be).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace procevents::config {

/// Byte offset of the first byte that does not begin a well-formed UTF-8 sequence, or npos.
/// Strict (RFC 3629): overlong forms, surrogates and code points above U+10FFFF are invalid.
std::size_t find_invalid_utf8(std::string_view text) noexcept;

/// Appends `text` to `out`, each byte of an ill-formed sequence replaced by U+FFFD. Prometheus refuses
/// a whole scrape over one label value that is not UTF-8, and comm/argv are arbitrary bytes.
void append_valid_utf8(std::string& out, std::string_view text);

}  // namespace procevents::config
