// Query strings and request paths: percent-decoding and key/value splitting. Pure: bytes in,
// values or nullopt out; never throws on untrusted input.
#include "http/query.h"

namespace holdfast::http {
namespace {

// Value of a hex digit, or -1.
int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Untrusted text echoed in an error message: at most 64 bytes, so a huge query cannot blow up
// the 400 response (the message is JSON-escaped by the responder).
std::string excerpt(std::string_view text) {
  constexpr size_t kMax = 64;
  if (text.size() <= kMax)
    return std::string(text);
  return std::string(text.substr(0, kMax)) + "...";
}

// True when `path` has a ".." segment ("/../", a trailing "/..", or a leading "../").
bool hasDotDotSegment(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos)
      end = path.size();
    if (path.substr(start, end - start) == "..")
      return true;
    start = end + 1;
  }
  return false;
}

} // namespace

std::optional<std::string> percentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (in.size() - i < 3)
        return std::nullopt; // truncated escape: "%" or "%4" at the end
      int hi = hexValue(in[i + 1]);
      int lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0')
      return std::nullopt; // a NUL would truncate the value in C APIs and logs
    out += c;
  }
  return out;
}

const std::string* Query::get(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (k == key)
      return &v;
  }
  return nullptr;
}

std::optional<Query> parseQuery(std::string_view text, std::string& error) {
  Query query;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('&', start);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view item = text.substr(start, end - start);
    start = end + 1;
    if (item.empty())
      continue; // "a=1&&b=2", a leading or trailing '&'
    size_t eq = item.find('=');
    std::string_view raw_key = item.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    auto key = percentDecode(raw_key, true);
    auto value = percentDecode(raw_value, true);
    if (!key || !value) {
      error = "bad percent-escape in query item \"" + excerpt(item) + "\"";
      return std::nullopt;
    }
    query.items.emplace_back(std::move(*key), std::move(*value));
  }
  return query;
}

std::optional<Target> splitTarget(std::string_view request_uri) {
  size_t q = request_uri.find('?');
  std::string_view raw_path = request_uri.substr(0, q);
  auto path = percentDecode(raw_path, false); // '+' is literal in a path
  if (!path || hasDotDotSegment(*path))
    return std::nullopt;
  Target target;
  target.path = std::move(*path);
  if (q != std::string_view::npos)
    target.query = std::string(request_uri.substr(q + 1));
  return target;
}

} // namespace holdfast::http
