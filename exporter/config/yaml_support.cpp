#include "config/yaml_support.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/unique_fd.h"
#include "common/utf8.h"

namespace procevents::config::detail {

namespace {

// Far beyond any real config; stops --config.file=/dev/zero from eating memory.
constexpr std::size_t kMaxFileBytes = 16 << 20;

std::string with_position(const std::string& file, int line, int column, const std::string& message) {
  return ConfigError{file, line, column, message}.to_string();
}

/// 1-based line and column of byte `offset` in `text`.
std::pair<int, int> position_of(std::string_view text, std::size_t offset) {
  const std::string_view before = text.substr(0, offset);
  const auto line = 1 + std::count(before.begin(), before.end(), '\n');
  const std::size_t line_start = before.rfind('\n');
  const std::size_t column = offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  return {static_cast<int>(line), static_cast<int>(column)};
}

std::string shown(const YAML::Node& node) {
  std::string text = node.Scalar();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

}  // namespace

void Diagnostics::error(const YAML::Mark& mark, std::string message) {
  // yaml-cpp's null mark is -1: no position.
  error_at_line(mark.line < 0 ? 0 : mark.line + 1, mark.line < 0 ? 0 : mark.column + 1, std::move(message));
}

void Diagnostics::error_at_line(int line, int column, std::string message) {
  errors.push_back({file_, line, column, std::move(message)});
}

void Diagnostics::warn(const YAML::Mark& mark, const std::string& message) {
  warnings.push_back(with_position(file_, mark.line < 0 ? 0 : mark.line + 1, mark.line < 0 ? 0 : mark.column + 1, message));
}

std::vector<Entry> entries(Diagnostics& diag, const YAML::Node& map, std::string_view where) {
  // Nodes are only ever copy-constructed here: assigning one YAML::Node to another rewrites the
  // node it refers to, inside the document being read.
  std::vector<Entry> all;
  for (const auto& item : map) {
    if (!item.first.IsScalar()) {
      diag.error(item.first, std::string(where) + ": keys must be plain names");
      continue;
    }
    const YAML::Mark mark = item.second.IsNull() ? item.first.Mark() : item.second.Mark();
    all.push_back(Entry{item.first.Scalar(), item.first, item.second, mark});
  }
  std::vector<Entry> kept;
  kept.reserve(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    const bool repeated_later =
        std::any_of(all.begin() + static_cast<std::ptrdiff_t>(i) + 1, all.end(), [&](const Entry& e) { return e.key == all[i].key; });
    if (repeated_later) {
      diag.warn(all[i].key_node, std::string(where) + ": \"" + all[i].key + "\" is given again below; the last one is used");
    } else {
      kept.push_back(all[i]);
    }
  }
  return kept;
}

bool read_file(const std::string& path, std::string& out, std::string& error) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
    error = "cannot read: it is a directory";
    return false;
  }
  out.clear();
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::string("cannot read: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > kMaxFileBytes) {
      error = "file larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB";
      return false;
    }
  }
  return true;
}

namespace {

/// Records where the content of a document starts; ignores everything else.
class ContentMark final : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> mark;
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { note(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& m) {
    if (!mark) mark = m;
  }
};

/// Where a second, non-empty YAML document starts, if there is one. Not YAML::LoadAll: on some
/// malformed inputs yaml-cpp 0.7 returns documents from it forever without consuming the text
/// (found by the config tests' random edits); two HandleNextDocument calls are bounded.
std::optional<YAML::Mark> second_document_start(std::string_view text) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  ContentMark first, second;
  if (!parser.HandleNextDocument(first)) return std::nullopt;
  if (!parser.HandleNextDocument(second)) return std::nullopt;
  return second.mark;
}

}  // namespace

std::optional<YAML::Node> parse_document(Diagnostics& diag, std::string_view text, bool empty_is_error) {
  if (const std::size_t at = find_invalid_utf8(text); at != std::string_view::npos) {
    const auto [line, column] = position_of(text, at);
    static constexpr char kHex[] = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(text[at]);
    diag.error_at_line(line, column,
                       std::string("file is not valid UTF-8 (byte 0x") + kHex[byte >> 4] + kHex[byte & 0xF] + ")");
    return std::nullopt;
  }
  if (const std::size_t at = text.find('\0'); at != std::string_view::npos) {
    const auto [line, column] = position_of(text, at);
    diag.error_at_line(line, column, "file contains a NUL byte");
    return std::nullopt;
  }
  YAML::Node document;
  std::optional<YAML::Mark> second_document;
  try {
    document = YAML::Load(std::string(text));
    second_document = second_document_start(text);
  } catch (const YAML::DeepRecursion& e) {
    diag.error(e.mark, "YAML nested too deeply");
    return std::nullopt;
  } catch (const YAML::ParserException& e) {
    diag.error(e.mark, "YAML syntax error: " + e.msg);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    diag.error(e.mark, "YAML error: " + e.msg);
    return std::nullopt;
  }
  if (document.IsNull()) {
    if (empty_is_error) {
      diag.error_at_line(0, 0, "file is empty");
      return std::nullopt;
    }
    return YAML::Node(YAML::NodeType::Map);
  }
  if (second_document) diag.warn(*second_document, "only the first YAML document is used");
  if (!document.IsMap()) {
    diag.error(document, "the top level must be a mapping of settings (e.g. process_names: [...])");
    return std::nullopt;
  }
  return document;
}

bool read_string(Diagnostics& diag, const YAML::Node& node, const YAML::Mark& at, std::string_view what,
                 std::string& out) {
  if (!node.IsScalar()) {
    diag.error(at, std::string(what) + ": expected a string");
    return false;
  }
  out = node.Scalar();
  return true;
}

bool read_bool(Diagnostics& diag, const YAML::Node& node, const YAML::Mark& at, std::string_view what, bool& out) {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    diag.error(at, std::string(what) + ": expected true or false" + (node.IsScalar() ? ", not \"" + shown(node) + "\"" : ""));
    return false;
  }
  out = value;
  return true;
}

bool read_count(Diagnostics& diag, const YAML::Node& node, const YAML::Mark& at, std::string_view what,
                std::size_t& out, std::size_t min, std::size_t max) {
  long long value = 0;
  if (!node.IsScalar() || !YAML::convert<long long>::decode(node, value)) {
    diag.error(at, std::string(what) + ": expected a whole number" +
                       (node.IsScalar() ? ", not \"" + shown(node) + "\"" : ""));
    return false;
  }
  if (value < 0 || static_cast<unsigned long long>(value) < min || static_cast<unsigned long long>(value) > max) {
    diag.error(at, std::string(what) + ": must be between " + std::to_string(min) + " and " + std::to_string(max) +
                       ", not " + std::to_string(value));
    return false;
  }
  out = static_cast<std::size_t>(value);
  return true;
}

bool read_number(Diagnostics& diag, const YAML::Node& node, const YAML::Mark& at, std::string_view what,
                 double& out) {
  double value = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, value)) {
    diag.error(at, std::string(what) + ": expected a number" + (node.IsScalar() ? ", not \"" + shown(node) + "\"" : ""));
    return false;
  }
  out = value;
  return true;
}

bool read_string_list(Diagnostics& diag, const YAML::Node& node, const YAML::Mark& at, std::string_view what,
                      std::vector<std::string>& out) {
  out.clear();
  if (node.IsNull()) return true;
  if (node.IsScalar()) {
    diag.error(at, std::string(what) + ": expected a list, e.g. [" + shown(node) + "]");
    return false;
  }
  if (!node.IsSequence()) {
    diag.error(at, std::string(what) + ": expected a list of strings");
    return false;
  }
  bool ok = true;
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) {
      diag.error(item.IsNull() ? at : item.Mark(), std::string(what) + ": list items must be strings");
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
  }
  return ok;
}

}  // namespace procevents::config::detail
