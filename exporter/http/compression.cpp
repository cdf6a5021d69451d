#include "http/compression.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <system_error>

namespace procevents::http {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// "q=0", "q=0.0", "q=0.000" refuse; anything else (including a malformed q) is taken as acceptance.
bool refuses(std::string_view params) {
  while (!params.empty()) {
    const auto semicolon = params.find(';');
    const std::string_view param = trim(params.substr(0, semicolon));
    params = semicolon == std::string_view::npos ? std::string_view() : params.substr(semicolon + 1);
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    const std::string_view value = param.substr(2);
    if (value.empty() || value[0] != '0') return false;
    for (const char c : value.substr(1)) {
      if (c != '.' && c != '0') return false;
    }
    return true;
  }
  return false;
}

/// One media range of an Accept header: is it the delimited MetricFamily stream, and its q (1 unless given;
/// a malformed q counts as 1, like a malformed q in Accept-Encoding).
struct MediaRange {
  bool protobuf = false;
  double q = 1;
};

MediaRange parse_media_range(std::string_view item) {
  auto semicolon = item.find(';');
  const std::string_view type = trim(item.substr(0, semicolon));
  bool proto = false, delimited = false;
  MediaRange range;
  while (semicolon != std::string_view::npos) {
    item = item.substr(semicolon + 1);
    semicolon = item.find(';');
    const std::string_view param = trim(item.substr(0, semicolon));
    const auto equals = param.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view name = trim(param.substr(0, equals));
    std::string_view value = trim(param.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (iequals(name, "proto")) proto = value == "io.prometheus.client.MetricFamily";
    if (iequals(name, "encoding")) delimited = value == "delimited";
    if (iequals(name, "q")) {
      double q = 1;
      const auto result = std::from_chars(value.data(), value.data() + value.size(), q);
      if (result.ec == std::errc() && result.ptr == value.data() + value.size() && q >= 0 && q <= 1) range.q = q;
    }
  }
  range.protobuf = iequals(type, "application/vnd.google.protobuf") && proto && delimited;
  return range;
}

}  // namespace

bool prefers_protobuf(std::string_view accept) {
  double protobuf_q = 0;
  double best_before = 0;  // of the ranges before the protobuf one
  double best_after = 0;
  bool found = false;
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    const std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    if (trim(item).empty()) continue;
    const MediaRange range = parse_media_range(item);
    if (range.protobuf && !found) {
      found = true;
      protobuf_q = range.q;
    } else {
      double& best = found ? best_after : best_before;
      best = std::max(best, range.q);
    }
  }
  return found && protobuf_q > 0 && protobuf_q > best_before && protobuf_q >= best_after;
}

bool accepts_gzip(std::string_view accept_encoding) {
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    const std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const auto semicolon = item.find(';');
    const std::string_view coding = trim(item.substr(0, semicolon));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      return semicolon == std::string_view::npos || !refuses(item.substr(semicolon + 1));
    }
  }
  return false;
}

bool gzip_compress(std::string_view input, std::string* out) {
  if (input.size() > std::numeric_limits<uInt>::max() / 2) return false;
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out->resize(deflateBound(&stream, static_cast<uLong>(input.size())));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out->data());
  stream.avail_out = static_cast<uInt>(out->size());
  // deflateBound guarantees one Z_FINISH call suffices.
  const int result = deflate(&stream, Z_FINISH);
  out->resize(stream.total_out);
  deflateEnd(&stream);
  return result == Z_STREAM_END;
}

}  // namespace procevents::http
