// Redis URL parsing (pure).
#include "redis/url.h"

#include <charconv>

namespace holdfast::redis {
namespace {

// Decimal digits only, at most `max`; nullopt otherwise.
std::optional<uint64_t> number(std::string_view text, uint64_t max) {
  uint64_t value = 0;
  if (text.empty() || text.size() > 10)
    return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max)
    return std::nullopt;
  return value;
}

// Splits "[:password@]rest": the userinfo part may hold only a password (Redis 5 style) or
// "user:password" where the user is ignored unless ACLs are added later.
std::string_view takePassword(std::string_view text, Address& out) {
  size_t at = text.rfind('@');
  if (at == std::string_view::npos)
    return text;
  std::string_view userinfo = text.substr(0, at);
  size_t colon = userinfo.find(':');
  out.password =
      std::string(colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1));
  return text.substr(at + 1);
}

// "host[:port]" or "[v6][:port]"; returns the problem or empty.
std::string parseHostPort(std::string_view text, Address& out) {
  std::string_view port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos)
      return "has an unclosed '[' in the host";
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':'))
      return "has text after the IPv6 host";
    port = rest.empty() ? rest : rest.substr(1);
  } else {
    size_t colon = text.find(':');
    out.host = std::string(text.substr(0, colon));
    port = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  }
  if (out.host.empty())
    return "has no host";
  if (port.empty())
    return {};
  auto value = number(port, 65535);
  if (!value || *value == 0)
    return "has a bad port (1-65535)";
  out.port = static_cast<uint16_t>(*value);
  return {};
}

std::string parseDb(std::string_view text, Address& out) {
  if (text.empty())
    return {};
  auto value = number(text, 1u << 20);
  if (!value)
    return "has a bad database number";
  out.db = static_cast<uint32_t>(*value);
  return {};
}

std::optional<Address> parseTcp(std::string_view rest, std::string& error) {
  Address out;
  rest = takePassword(rest, out);
  size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  std::string_view db =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  error = parseHostPort(hostport, out);
  if (error.empty())
    error = parseDb(db, out);
  if (error.empty() && out.host.find_first_of("/?#@ ") != std::string::npos)
    error = "has a bad host";
  return error.empty() ? std::optional<Address>(std::move(out)) : std::nullopt;
}

std::optional<Address> parseUnix(std::string_view path, std::string& error) {
  if (!path.starts_with('/')) {
    error = "needs an absolute socket path (unix:/path/to/redis.sock)";
    return std::nullopt;
  }
  if (path.size() > 107) {
    error = "has a socket path longer than 107 bytes";
    return std::nullopt;
  }
  Address out;
  out.kind = Address::Kind::kUnix;
  out.path = std::string(path);
  return out;
}

} // namespace

std::optional<Address> parseUrl(std::string_view url, std::string& error) {
  if (url.starts_with("redis://"))
    return parseTcp(url.substr(8), error);
  if (url.starts_with("unix:"))
    return parseUnix(url.substr(5), error);
  error = "is not redis://[:password@]host:port[/db] or unix:/path/to/redis.sock";
  return std::nullopt;
}

std::string describe(const Address& a) {
  if (a.kind == Address::Kind::kUnix)
    return "unix:" + a.path + (a.db ? "/" + std::to_string(a.db) : "");
  bool v6 = a.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + a.host + "]" : a.host;
  return host + ":" + std::to_string(a.port) + "/" + std::to_string(a.db);
}

} // namespace holdfast::redis
