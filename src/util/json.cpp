// JSON string escaping (always-valid output, safe inside <script>) and RapidJSON validation.
#include "util/json.h"

#include <cstdint>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace holdfast::util {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD"; // U+FFFD in UTF-8

// True for bytes copied as they are: printable ASCII except '"', '\\' and '<'.
constexpr bool isPlain(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<';
}

void appendControl(std::string& out, unsigned char c) {
  switch (c) {
  case '\b':
    out.append("\\b", 2);
    return;
  case '\f':
    out.append("\\f", 2);
    return;
  case '\n':
    out.append("\\n", 2);
    return;
  case '\r':
    out.append("\\r", 2);
    return;
  case '\t':
    out.append("\\t", 2);
    return;
  default:
    break;
  }
  const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
  out.append(esc, sizeof esc);
}

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode Table 3-7), or 0 when the
// bytes there are not one. When 0, *bad is the length of the maximal ill-formed subpart (>= 1),
// which is replaced by one U+FFFD ("substitution of maximal subparts", as browsers do).
size_t utf8Length(std::string_view s, size_t i, size_t* bad) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    lo = b0 == 0xE0 ? 0xA0 : 0x80; // no overlongs
    hi = b0 == 0xED ? 0x9F : 0xBF; // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    lo = b0 == 0xF0 ? 0x90 : 0x80; // no overlongs
    hi = b0 == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
  }
  size_t n = 1;
  while (need != 0 && n < need && i + n < s.size()) {
    const auto b = static_cast<unsigned char>(s[i + n]);
    if (b < (n == 1 ? lo : 0x80) || b > (n == 1 ? hi : 0xBF))
      break;
    ++n;
  }
  if (need != 0 && n == need)
    return n;
  *bad = n;
  return 0;
}

// Appends the character at s[i] (not plain ASCII) and returns how many input bytes it used.
size_t appendSpecial(std::string& out, std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == '"' || c == '\\') {
    const char esc[2] = {'\\', static_cast<char>(c)};
    out.append(esc, 2);
    return 1;
  }
  if (c == '<') {
    // "</" would end an enclosing <script> element.
    if (i + 1 < s.size() && s[i + 1] == '/') {
      out.append("<\\/", 3);
      return 2;
    }
    out.push_back('<');
    return 1;
  }
  if (c < 0x20) {
    appendControl(out, c);
    return 1;
  }
  size_t bad = 0;
  const size_t n = utf8Length(s, i, &bad);
  if (n == 0) {
    out.append(kReplacement);
    return bad;
  }
  // U+2028 / U+2029 are line terminators in pre-ES2019 JavaScript.
  if (n == 3 && c == 0xE2 && s[i + 1] == '\x80' && (s[i + 2] == '\xA8' || s[i + 2] == '\xA9')) {
    out.append(s[i + 2] == '\xA8' ? "\\u2028" : "\\u2029", 6);
    return 3;
  }
  out.append(s.data() + i, n);
  return n;
}

// RapidJSON handler that accepts every value but stops past kMaxDepth nested containers.
class DepthLimit : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, DepthLimit> {
public:
  static constexpr int kMaxDepth = 128;
  bool StartObject() { return ++depth_ <= kMaxDepth; }
  bool EndObject(rapidjson::SizeType) { return --depth_ >= 0; }
  bool StartArray() { return ++depth_ <= kMaxDepth; }
  bool EndArray(rapidjson::SizeType) { return --depth_ >= 0; }
  bool tooDeep() const { return depth_ > kMaxDepth; }

private:
  int depth_ = 0;
};

JsonCheck failure(std::string error, size_t offset) {
  JsonCheck check;
  check.error = std::move(error);
  check.offset = offset;
  return check;
}

} // namespace

// Output: '"' + escaped text + '"'. Plain ASCII runs are appended in one call each; '"' and '\\'
// get a backslash; control characters become \b \f \n \r \t or \u00XX; "</" becomes "<\/";
// U+2028/U+2029 become \u2028/\u2029; other valid UTF-8 is copied; every maximal ill-formed
// subsequence (overlong, surrogate, out of range, truncated, stray continuation) becomes U+FFFD.
void appendJsonString(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;
    while (run < s.size() && isPlain(static_cast<unsigned char>(s[run])))
      ++run;
    out.append(s.data() + i, run - i);
    i = run;
    if (i < s.size())
      i += appendSpecial(out, s, i);
  }
  out.push_back('"');
}

// Accepts exactly one JSON value with optional surrounding whitespace, valid UTF-8 strings and
// at most 128 nested arrays/objects (the iterative parser keeps the C++ stack flat anyway).
JsonCheck validateJson(std::string_view text) {
  constexpr unsigned kFlags =
      rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  rapidjson::MemoryStream stream(text.data(), text.size());
  rapidjson::Reader reader;
  DepthLimit handler;
  const rapidjson::ParseResult result = reader.Parse<kFlags>(stream, handler);
  if (handler.tooDeep())
    return failure("Nesting deeper than 128 levels.", result.Offset()); // at the '[' or '{'
  if (result.IsError())
    return failure(rapidjson::GetParseError_En(result.Code()), result.Offset());
  // MemoryStream reads a NUL byte as the end of input, so "1\0x" would pass: it must not.
  if (stream.Tell() != text.size())
    return failure(rapidjson::GetParseError_En(rapidjson::kParseErrorDocumentRootNotSingular),
                   stream.Tell());
  JsonCheck ok;
  ok.ok = true;
  return ok;
}

} // namespace holdfast::util
