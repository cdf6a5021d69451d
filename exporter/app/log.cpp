#include "app/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "common/utf8.h"

namespace procevents::app {

namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<LogFormat> g_format{LogFormat::kLogfmt};
std::mutex g_mutex;
constexpr const char* kLevelFlags[] = {"debug", "info", "warn", "error"};
constexpr const char* kLevelNames[] = {"DEBUG", "INFO", "WARN", "ERROR"};  // as promslog writes them

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

/// `value` in double quotes, escaped the way both logfmt (Go's strconv.Quote) and JSON read it.
void append_quoted(std::string& out, std::string_view value) {
  out += '"';
  for (const char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (is_control(c)) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_value(std::string& out, std::string_view raw, bool json) {
  std::string value;
  append_valid_utf8(value, raw);
  bool quote = json || value.empty();
  for (const char c : value) quote = quote || c == ' ' || c == '=' || c == '"' || is_control(c);
  if (quote) {
    append_quoted(out, value);
  } else {
    out += value;
  }
}

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[40];
  const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(millis));
  return stamp;
}

}  // namespace

bool parse_log_level(std::string_view text, LogLevel& out) {
  for (int i = 0; i < 4; ++i) {
    if (text == kLevelFlags[i]) {
      out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

bool parse_log_format(std::string_view text, LogFormat& out) {
  if (text == "logfmt") {
    out = LogFormat::kLogfmt;
  } else if (text == "json") {
    out = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

void set_log_level(LogLevel level) { g_level.store(level); }
void set_log_format(LogFormat format) { g_format.store(format); }

std::string format_log_record(LogFormat format, std::string_view time, LogLevel level, std::string_view source,
                              std::string_view msg, std::initializer_list<LogField> fields) {
  const std::string_view level_name = kLevelNames[static_cast<int>(level)];
  std::string line;
  line.reserve(96 + msg.size());
  // The same fields in both formats: `"key":"value"` members of one object, or logfmt's key=value.
  const bool json = format == LogFormat::kJson;
  if (json) line += '{';
  const auto field = [&line, json](std::string_view key, std::string_view value) {
    if (line.size() > (json ? 1u : 0u)) line += json ? ',' : ' ';
    if (json) {
      append_value(line, key, true);
      line += ':';
    } else {
      line += key;
      line += '=';
    }
    append_value(line, value, json);
  };
  if (!time.empty()) field("time", time);
  field("level", level_name);
  field("source", source);
  field("msg", msg);
  for (const LogField& f : fields) field(f.key, f.value);
  line += json ? "}\n" : "\n";
  return line;
}

void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields, std::source_location where) {
  if (level < g_level.load()) return;
  std::string_view file = where.file_name();
  file = file.substr(file.rfind('/') + 1);  // npos + 1 == 0: the whole name
  const std::string source = std::string(file) + ":" + std::to_string(where.line());
  const std::string line = format_log_record(g_format.load(), now_rfc3339(), level, source, msg, fields);
  std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace procevents::app
