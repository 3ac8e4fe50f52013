// Transport names, request-parameter validation, Content-Types and the <script> escaper.
#include "transport/transport.h"

#include <array>

namespace holdfast::transport {
namespace {

constexpr std::array<std::string_view, kKindCount> kNames = {
    "longpoll", "poll", "jsonp", "sse", "iframe", "multipart", "ndjson",
};

constexpr bool isAlpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
constexpr bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// The replacement for a byte escapeForScript rewrites, or empty for a byte kept as is.
// U+2028/9 (E2 80 A8/A9) are handled by the caller because they span three bytes.
constexpr std::string_view scriptEscape(char c) {
  switch (c) {
  case '<':
    return "\\u003c";
  case '>':
    return "\\u003e";
  case '&':
    return "\\u0026";
  case '\r':
  case '\n':
    return " ";
  default:
    return {};
  }
}

} // namespace

std::string_view kindName(Kind kind) {
  return kNames[static_cast<size_t>(kind)];
}

std::optional<Kind> parseKind(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name)
      return static_cast<Kind>(i);
  }
  return std::nullopt;
}

bool isStreaming(Kind kind) {
  return kind == Kind::kSse || kind == Kind::kIframe || kind == Kind::kMultipart ||
         kind == Kind::kNdjson;
}

bool isValidCallback(std::string_view name) {
  if (name.empty() || name.size() > 64)
    return false;
  const char first = name[0];
  if (!isAlpha(first) && first != '_' && first != '$')
    return false;
  for (char c : name.substr(1)) {
    if (!isAlpha(c) && !isDigit(c) && c != '_' && c != '$' && c != '.')
      return false;
  }
  return true;
}

std::string contentType(const Context& ctx) {
  switch (ctx.kind) {
  case Kind::kLongpoll:
  case Kind::kPoll:
    return "application/json";
  case Kind::kJsonp:
    return "application/javascript; charset=utf-8";
  case Kind::kSse:
    return "text/event-stream";
  case Kind::kIframe:
    return "text/html; charset=utf-8";
  case Kind::kMultipart:
    return "multipart/x-mixed-replace; boundary=" + ctx.boundary;
  case Kind::kNdjson:
    return "application/x-ndjson";
  }
  return "application/octet-stream";
}

std::string makeBoundary(util::Random& random) {
  return "holdfast-" + random.token(18);
}

// '<' '>' '&' -> \u003c \u003e \u0026 (no "</script>", "<!--" or "]]>" survives), U+2028/9 ->
// \u2028 \u2029, CR/LF -> ' '. Runs of untouched bytes are appended in one call each.
void appendEscapedForScript(std::string& out, std::string_view json) {
  out.reserve(out.size() + json.size() + 16);
  size_t start = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    std::string_view rep = scriptEscape(json[i]);
    size_t used = 1;
    if (json[i] == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
        (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      rep = json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      used = 3;
    }
    if (rep.empty())
      continue;
    out.append(json.data() + start, i - start);
    out.append(rep);
    i += used - 1;
    start = i + 1;
  }
  out.append(json.data() + start, json.size() - start);
}

std::string escapeForScript(std::string_view json) {
  std::string out;
  appendEscapedForScript(out, json);
  return out;
}

} // namespace holdfast::transport
