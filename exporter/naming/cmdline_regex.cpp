#include "naming/cmdline_regex.h"

#include <algorithm>
#include <cstdint>

namespace procevents::naming {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_octal(char c) { return c >= '0' && c <= '7'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hex_escape(unsigned byte) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  return std::string("\\x") + kDigits[(byte >> 4) & 0xF] + kDigits[byte & 0xF];
}

/// A code point as ECMAScript text matching its UTF-8 bytes; multi-byte ones are grouped so that a
/// following quantifier applies to the whole character.
std::string code_point_pattern(std::uint32_t cp) {
  if (cp < 0x80) return hex_escape(cp);
  std::string bytes;
  if (cp < 0x800) {
    bytes = hex_escape(0xC0 | (cp >> 6)) + hex_escape(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    bytes = hex_escape(0xE0 | (cp >> 12)) + hex_escape(0x80 | ((cp >> 6) & 0x3F)) + hex_escape(0x80 | (cp & 0x3F));
  } else {
    bytes = hex_escape(0xF0 | (cp >> 18)) + hex_escape(0x80 | ((cp >> 12) & 0x3F)) +
            hex_escape(0x80 | ((cp >> 6) & 0x3F)) + hex_escape(0x80 | (cp & 0x3F));
  }
  return "(?:" + bytes + ")";
}

/// Length of the UTF-8 sequence announced by `lead` (1 for ASCII and for stray bytes).
std::size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  if (lead >= 0xE0) return lead <= 0xEF ? 3 : 1;
  if (lead >= 0xC2) return 2;
  return 1;
}

/// One pass over an RE2 pattern producing two ECMAScript patterns (with and without capturing
/// groups) and an estimate of the compiled size. Errors stop the pass; the first one is kept.
class Translator {
 public:
  explicit Translator(std::string_view in) : in_(in) { frames_.push_back({}); }

  bool run() {
    if (!leading_flags()) return false;
    while (ok_ && at_ < in_.size()) step();
    if (ok_ && frames_.size() > 1) fail("missing closing )");
    if (ok_ && frames_.back().total > CmdlineRegex::kMaxSize) too_large();
    return ok_;
  }

  std::string with_groups, without_groups;
  std::vector<std::pair<std::string, std::size_t>> named_groups;
  std::size_t group_count = 0;
  bool icase = false, multiline = false;
  std::string error;

 private:
  struct Frame {
    std::size_t total = 0;  // estimated atoms so far in this group
    std::size_t last = 0;   // size of the item a quantifier would repeat; 0 = nothing to repeat
    bool repeated = false;  // the last item already carries a quantifier
  };

  bool fail(std::string message) {
    if (ok_) error = std::move(message);
    ok_ = false;
    return false;
  }
  void too_large() {
    fail("pattern too large: above " + std::to_string(CmdlineRegex::kMaxSize) +
         " elements once repetitions are expanded");
  }
  void emit(std::string_view text) {
    with_groups += text;
    without_groups += text;
  }
  Frame& frame() { return frames_.back(); }
  void add(std::size_t size) {
    frame().total += size;
    frame().last = size;
    frame().repeated = false;
    if (frame().total > CmdlineRegex::kMaxSize) too_large();
  }
  void atom(std::string_view text) {
    emit(text);
    add(1);
  }
  void assertion(std::string_view text) {  // ^ $ \b: zero-width, nothing to repeat (RE2 refuses ^*)
    emit(text);
    frame().total += 1;
    frame().last = 0;
    frame().repeated = false;
  }

  /// (?i), (?s), (?m) and combinations such as (?is), only at the very start.
  bool leading_flags() {
    bool dotall = false;
    while (in_.substr(at_, 2) == "(?") {
      std::size_t end = at_ + 2;
      while (end < in_.size() && std::string_view("imsU-").find(in_[end]) != std::string_view::npos) ++end;
      if (end == at_ + 2 || end >= in_.size() || in_[end] != ')') break;  // not a flag group
      for (std::size_t k = at_ + 2; k < end; ++k) {
        if (in_[k] == 'i') icase = true;
        if (in_[k] == 's') dotall = true;
        if (in_[k] == 'm') multiline = true;
        if (in_[k] == 'U') return fail("the ungreedy flag (?U) is not supported");
        if (in_[k] == '-') return fail("clearing flags with (?-...) is not supported");
      }
      at_ = end + 1;
    }
    dotall_ = dotall;
    return true;
  }

  void step() {
    const char c = in_[at_];
    switch (c) {
      case '\\':
        escape();
        return;
      case '[':
        char_class();
        return;
      case '(':
        open_group();
        return;
      case ')':
        close_group();
        return;
      case '|':
        emit("|");
        frame().total += 1;
        frame().last = 0;
        frame().repeated = false;
        ++at_;
        return;
      case '*':
      case '+':
      case '?':
        quantifier(std::string(1, c), 1, at_ + 1);
        return;
      case '{':
        brace();
        return;
      case '}':
      case ']':
        atom(std::string("\\") + c);  // literals in RE2; escaped so ECMAScript agrees
        ++at_;
        return;
      case '.':
        atom(dotall_ ? "[\\s\\S]" : "[^\\n]");
        ++at_;
        return;
      case '^':
      case '$':
        assertion(std::string(1, c));
        ++at_;
        return;
      default:
        literal_char();
        return;
    }
  }

  void literal_char() {
    const auto lead = static_cast<unsigned char>(in_[at_]);
    std::size_t length = std::min(utf8_length(lead), in_.size() - at_);
    if (lead < 0x20 || lead == 0x7F) {  // control bytes as escapes: no raw NUL inside the pattern
      atom(hex_escape(lead));
    } else if (length == 1) {
      atom(in_.substr(at_, 1));
    } else {  // a multi-byte character: grouped so that "é+" repeats the character, not its last byte
      atom("(?:" + std::string(in_.substr(at_, length)) + ")");
    }
    at_ += length;
  }

  /// `text` is the quantifier as written (e.g. "*", "{2,5}"); `copies` how many times it expands the item.
  void quantifier(const std::string& text, std::size_t copies, std::size_t next) {
    Frame& f = frame();
    if (f.repeated) {
      fail("bad repetition operator: a repetition cannot be repeated (" + text + ")");
      return;
    }
    if (f.last == 0) {
      fail("missing argument to repetition operator " + text);
      return;
    }
    emit(text);
    at_ = next;
    if (at_ < in_.size() && in_[at_] == '?') {  // lazy
      emit("?");
      ++at_;
    }
    const std::size_t extra = copies > 1 ? f.last * (copies - 1) : 0;
    if (copies > 1 && f.last > CmdlineRegex::kMaxSize / copies) {
      too_large();
      return;
    }
    f.total += extra + 1;
    f.last *= std::max<std::size_t>(copies, 1);
    f.repeated = true;
    if (f.total > CmdlineRegex::kMaxSize) too_large();
  }

  /// {n}, {n,} or {n,m}; anything else starting with '{' is a literal, as in RE2.
  void brace() {
    std::size_t k = at_ + 1;
    auto number = [&](std::size_t& value) {
      const std::size_t start = k;
      value = 0;
      while (k < in_.size() && is_digit(in_[k]) && k - start < 8) value = value * 10 + static_cast<std::size_t>(in_[k++] - '0');
      return k > start && (k >= in_.size() || !is_digit(in_[k]));
    };
    std::size_t low = 0, high = 0;
    bool bounded = true;
    bool valid = number(low);
    if (valid && k < in_.size() && in_[k] == ',') {
      ++k;
      if (k < in_.size() && is_digit(in_[k])) {
        valid = number(high);
      } else {
        bounded = false;
      }
    } else {
      high = low;
    }
    valid = valid && k < in_.size() && in_[k] == '}';
    if (!valid) {
      atom("\\{");
      ++at_;
      return;
    }
    const std::string text(in_.substr(at_, k + 1 - at_));
    if (low > CmdlineRegex::kMaxRepeat || (bounded && high > CmdlineRegex::kMaxRepeat)) {
      fail("repetition count above " + std::to_string(CmdlineRegex::kMaxRepeat) + " in " + text);
      return;
    }
    if (bounded && high < low) {
      fail("invalid repetition " + text + ": the maximum is below the minimum");
      return;
    }
    quantifier(text, bounded ? high : low + 1, k + 1);
  }

  void open_group() {
    if (frames_.size() > CmdlineRegex::kMaxNesting) {
      fail("parentheses nested deeper than " + std::to_string(CmdlineRegex::kMaxNesting));
      return;
    }
    const std::string_view rest = in_.substr(at_);
    bool capturing = true;
    std::size_t skip = 1;
    if (rest.substr(0, 3) == "(?:") {
      capturing = false;
      skip = 3;
    } else if (rest.substr(0, 4) == "(?P<" || (rest.substr(0, 3) == "(?<" && rest.size() > 3 && rest[3] != '=' && rest[3] != '!')) {
      const std::size_t name_start = rest[2] == 'P' ? 4 : 3;
      const std::size_t name_end = rest.find('>', name_start);
      if (name_end == std::string_view::npos) {
        fail("unterminated group name");
        return;
      }
      const std::string name(rest.substr(name_start, name_end - name_start));
      if (name.empty() || !std::all_of(name.begin(), name.end(), is_word)) {
        fail("invalid group name \"" + name + "\" (letters, digits and _ only)");
        return;
      }
      if (std::any_of(named_groups.begin(), named_groups.end(), [&](const auto& g) { return g.first == name; })) {
        fail("duplicate group name \"" + name + "\"");
        return;
      }
      named_groups.emplace_back(name, group_count + 1);
      skip = name_end + 1;
    } else if (rest.substr(0, 3) == "(?=" || rest.substr(0, 3) == "(?!" || rest.substr(0, 4) == "(?<=" ||
               rest.substr(0, 4) == "(?<!") {
      fail("lookaround assertions are not supported (RE2 has none)");
      return;
    } else if (rest.substr(0, 2) == "(?") {
      const std::size_t end = rest.find_first_not_of("imsU-", 2);
      if (end != 2 && end != std::string_view::npos && (rest[end] == ')' || rest[end] == ':')) {
        fail("flags are supported only at the start of the pattern, as (?i), (?s) or (?m)");
      } else {
        fail("unsupported group syntax (allowed: (...), (?:...), (?P<name>...), (?<name>...))");
      }
      return;
    }
    if (capturing) {
      ++group_count;
      with_groups += '(';
      without_groups += "(?:";
    } else {
      emit("(?:");
    }
    frames_.push_back({});
    at_ += skip;
  }

  void close_group() {
    if (frames_.size() == 1) {
      fail("unexpected )");
      return;
    }
    const std::size_t size = frame().total + 1;
    frames_.pop_back();
    emit(")");
    add(size);
    ++at_;
  }

  /// Reads the code point of an octal (\0, \12, \123) or hex (\x41, \x{263a}) escape at `k` (just
  /// after the backslash); advances `k`. Returns false after failing.
  bool numeric_escape(std::size_t& k, std::uint32_t& cp) {
    const char kind = in_[k];
    if (is_octal(kind)) {
      // Go: a single digit 1-7 is a backreference; \0 or two or more digits are octal.
      if (kind != '0' && (k + 1 >= in_.size() || !is_octal(in_[k + 1]))) {
        return fail(std::string("backreferences are not supported (\\") + kind + ")");
      }
      cp = 0;
      for (std::size_t n = 0; n < 3 && k < in_.size() && is_octal(in_[k]); ++n) cp = cp * 8 + static_cast<std::uint32_t>(in_[k++] - '0');
      return true;
    }
    // kind == 'x'
    ++k;
    if (k < in_.size() && in_[k] == '{') {
      const std::size_t close = in_.find('}', k);
      if (close == std::string_view::npos || close == k + 1 || close - k > 7) return fail("invalid \\x{...} escape");
      cp = 0;
      for (std::size_t i = k + 1; i < close; ++i) {
        const int v = hex_value(in_[i]);
        if (v < 0) return fail("invalid \\x{...} escape");
        cp = cp * 16 + static_cast<std::uint32_t>(v);
      }
      k = close + 1;
    } else {
      if (k + 1 >= in_.size() || hex_value(in_[k]) < 0 || hex_value(in_[k + 1]) < 0) return fail("invalid \\x escape");
      cp = static_cast<std::uint32_t>(hex_value(in_[k]) * 16 + hex_value(in_[k + 1]));
      k += 2;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return fail("invalid code point in \\x escape");
    return true;
  }

  void escape() {
    if (at_ + 1 >= in_.size()) {
      fail("trailing backslash");
      return;
    }
    const char c = in_[at_ + 1];
    std::size_t k = at_ + 1;
    switch (c) {
      case 'd': case 'D': case 's': case 'S': case 'w': case 'W':
      case 't': case 'n': case 'r': case 'f': case 'v':
        atom(in_.substr(at_, 2));
        at_ += 2;
        return;
      case 'a':
        atom("\\x07");
        at_ += 2;
        return;
      case 'b': case 'B':
        assertion(in_.substr(at_, 2));
        at_ += 2;
        return;
      case 'A':
      case 'z':
        if (multiline) {
          fail(std::string("\\") + c + " cannot be combined with (?m)");
          return;
        }
        assertion(c == 'A' ? "^" : "$");
        at_ += 2;
        return;
      case 'Q': {
        std::size_t end = in_.find("\\E", at_ + 2);
        const std::size_t stop = end == std::string_view::npos ? in_.size() : end;
        for (std::size_t i = at_ + 2; i < stop; ++i) {
          const char q = in_[i];
          if (is_alnum(q) || static_cast<unsigned char>(q) >= 0x80) {
            atom(in_.substr(i, 1));
          } else {
            atom(hex_escape(static_cast<unsigned char>(q)));
          }
        }
        at_ = end == std::string_view::npos ? in_.size() : end + 2;
        return;
      }
      case 'p': case 'P':
        fail("Unicode classes (\\p, \\P) are not supported");
        return;
      case 'x':
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        std::uint32_t cp = 0;
        if (!numeric_escape(k, cp)) return;
        atom(code_point_pattern(cp));
        at_ = k;
        return;
      }
      default:
        break;
    }
    if (is_alnum(c) || static_cast<unsigned char>(c) >= 0x80 || c == '\0') {
      fail(std::string("invalid escape sequence \\") + (static_cast<unsigned char>(c) >= 0x80 || c == '\0' ? std::string("(byte)") : std::string(1, c)));
      return;
    }
    atom(hex_escape(static_cast<unsigned char>(c)));  // escaped punctuation is a literal
    at_ += 2;
  }

  void char_class() {
    std::string out = "[";
    std::size_t k = at_ + 1;
    if (k < in_.size() && in_[k] == '^') {
      out += '^';
      ++k;
    }
    bool first = true;
    while (true) {
      if (k >= in_.size()) {
        fail("missing closing ] of a character class");
        return;
      }
      const char c = in_[k];
      if (c == ']' && !first) break;
      first = false;
      if (c == '[' && in_.substr(k, 2) == "[:") {
        const std::size_t close = in_.find(":]", k + 2);
        if (close == std::string_view::npos) {
          fail("unterminated [: :] class");
          return;
        }
        if (in_[k + 2] == '^') {
          fail("negated POSIX classes [:^...:] are not supported");
          return;
        }
        out += in_.substr(k, close + 2 - k);
        k = close + 2;
        continue;
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        fail("non-ASCII characters inside [...] are not supported (matching is byte-wise)");
        return;
      }
      if (c == '\\') {
        if (k + 1 >= in_.size()) {
          fail("trailing backslash");
          return;
        }
        const char e = in_[k + 1];
        if (std::string_view("dDsSwWtnrfv").find(e) != std::string_view::npos) {
          out += in_.substr(k, 2);
          k += 2;
        } else if (e == 'a') {
          out += "\\x07";
          k += 2;
        } else if (e == 'x' || is_octal(e)) {
          std::size_t n = k + 1;
          std::uint32_t cp = 0;
          if (!numeric_escape(n, cp)) return;
          if (cp >= 0x80) {
            fail("non-ASCII characters inside [...] are not supported (matching is byte-wise)");
            return;
          }
          out += hex_escape(cp);
          k = n;
        } else if (e == 'p' || e == 'P') {
          fail("Unicode classes (\\p, \\P) are not supported");
          return;
        } else if (is_alnum(e) || static_cast<unsigned char>(e) >= 0x80 || e == '\0') {
          fail(std::string("invalid escape sequence in [...]: \\") + (is_alnum(e) ? std::string(1, e) : std::string("(byte)")));
          return;
        } else {
          out += hex_escape(static_cast<unsigned char>(e));
          k += 2;
        }
        continue;
      }
      if (c == '[' || c == ']' || c == '^') {
        out += hex_escape(static_cast<unsigned char>(c));  // literal here; escaped so ECMAScript agrees
      } else {
        out += c;
      }
      ++k;
    }
    out += ']';
    atom(out);
    at_ = k + 1;
  }

  std::string_view in_;
  std::size_t at_ = 0;
  bool ok_ = true;
  bool dotall_ = false;
  std::vector<Frame> frames_;
};

}  // namespace

std::optional<CmdlineRegex> CmdlineRegex::compile(std::string_view pattern, std::string* error) {
  auto failed = [&](std::string message) {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  if (pattern.size() > kMaxPatternBytes) {
    return failed("pattern longer than " + std::to_string(kMaxPatternBytes) + " bytes");
  }
  Translator translator(pattern);
  if (!translator.run()) return failed(translator.error);

  CmdlineRegex regex;
  regex.pattern_ = std::string(pattern);
  regex.named_groups_ = std::move(translator.named_groups);
  regex.group_count_ = translator.group_count;
  auto flags = std::regex::ECMAScript | std::regex::optimize | std::regex_constants::__polynomial;
  if (translator.icase) flags |= std::regex::icase;
  if (translator.multiline) flags |= std::regex::multiline;
  try {
    regex.search_ = std::regex("[\\s\\S]*?(" + translator.without_groups + ")", flags);
    if (regex.group_count_ > 0) regex.anchored_ = std::regex(translator.with_groups, flags);
  } catch (const std::regex_error& e) {
    return failed(e.what());
  }
  return regex;
}

std::size_t CmdlineRegex::group_index(std::string_view name) const {
  for (const auto& [group, index] : named_groups_) {
    if (group == name) return index;
  }
  return 0;
}

bool CmdlineRegex::matches(std::string_view text) const {
  const char* first = text.empty() ? "" : text.data();
  // One anchored attempt: the lazy [\s\S]*? prefix tries every start in the same pass.
  return std::regex_search(first, first + text.size(), search_, std::regex_constants::match_continuous);
}

bool CmdlineRegex::matches(std::string_view text, std::vector<std::string_view>& groups) const {
  namespace rc = std::regex_constants;
  const char* first = text.empty() ? "" : text.data();
  const char* last = first + text.size();
  std::cmatch outer;
  if (!std::regex_search(first, last, outer, search_, rc::match_continuous)) return false;
  groups.assign(group_count_ + 1, std::string_view());
  auto view = [](const std::csub_match& m) {
    return m.matched ? std::string_view(m.first, static_cast<std::size_t>(m.second - m.first)) : std::string_view();
  };
  groups[0] = view(outer[1]);
  if (group_count_ == 0) return true;
  // Some match starts at outer[1].first; the leftmost one starts there or earlier. Anchored
  // attempts from the left find it; they stop early unless the pattern can run a long way.
  const char* bound = outer[1].first;
  std::cmatch inner;
  for (const char* start = first; start <= bound; ++start) {
    const auto flags = rc::match_continuous | (start == first ? rc::match_default : rc::match_prev_avail);
    if (std::regex_search(start, last, inner, anchored_, flags)) {
      for (std::size_t i = 0; i < inner.size() && i < groups.size(); ++i) groups[i] = view(inner[i]);
      return true;
    }
  }
  return true;  // not reached: the attempt at `bound` matches; groups other than 0 stay empty
}

}  // namespace procevents::naming
