// Minimal logfmt logger on stderr ("ts=... level=info msg=\"...\""), as Prometheus exporters log.
#pragma once

#include <string_view>

namespace procevents::app {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// Parses "debug" | "info" | "warn" | "error"; false on anything else.
bool parse_log_level(std::string_view text, LogLevel& out);
void set_log_level(LogLevel level);
/// Thread-safe; `msg` is quoted and escaped.
void log(LogLevel level, std::string_view msg);

}  // namespace procevents::app
