// The exporter's log on stderr, in prometheus/common promslog's shape: one record a line with time, level,
// source, msg and key=value fields, as logfmt (default) or JSON (`--log.format`):
//   time=2026-12-01T22:40:00.123Z level=INFO source=exporter_app.cpp:319 msg=listening port=9662
//   {"time":"2026-12-01T22:40:00.123Z","level":"INFO","source":"exporter_app.cpp:319","msg":"listening","port":"9662"}
// Values are text (JSON strings), made valid UTF-8; logfmt quotes a value when it holds a space, '=', '"' or
// a control character, JSON escapes as RFC 8259 requires. Thread-safe: a record is written whole.
#pragma once

#include <initializer_list>
#include <source_location>
#include <string>
#include <string_view>

namespace procevents::app {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kLogfmt, kJson };

/// Parses "debug" | "info" | "warn" | "error"; false on anything else.
bool parse_log_level(std::string_view text, LogLevel& out);
/// Parses "logfmt" | "json"; false on anything else.
bool parse_log_format(std::string_view text, LogFormat& out);
void set_log_level(LogLevel level);
void set_log_format(LogFormat format);

struct LogField {
  std::string_view key;  // a plain identifier (written unquoted)
  std::string value;
};

/// One record, unless `level` is below the configured level.
void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {},
         std::source_location where = std::source_location::current());

/// The record's line (with its '\n'), without the time when `time` is empty: for tests.
std::string format_log_record(LogFormat format, std::string_view time, LogLevel level, std::string_view source,
                              std::string_view msg, std::initializer_list<LogField> fields);

}  // namespace procevents::app
