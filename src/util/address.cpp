// Address syntax: unix:PATH, tcp:HOST:PORT, fd:N (see address.h).
#include "util/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <climits>
#include <cstring>

namespace holdfast::util {
namespace {

constexpr size_t kMaxUnixPath = 107; // sizeof(sockaddr_un::sun_path) - 1 on Linux

std::optional<uint64_t> digits(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

bool isHostChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

bool allOf(std::string_view text, bool (*pred)(char)) {
  for (char c : text) {
    if (!pred(c))
      return false;
  }
  return true;
}

// Why `host` is not an IPv4 address, a host name or a bracketed IPv6 address, or "".
std::string hostProblem(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  if (host.starts_with('[') && host.ends_with(']')) {
    std::string inner = host.substr(1, host.size() - 2);
    return inet_pton(AF_INET6, inner.c_str(), buf) == 1 ? "" : "has a bad IPv6 address";
  }
  if (host.empty())
    return "has no host (use 0.0.0.0 or [::] for every interface)";
  if (host.find(':') != std::string::npos)
    return "has an IPv6 host without brackets (write [::1])";
  if (allOf(host, [](char c) { return (c >= '0' && c <= '9') || c == '.'; }))
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ? "" : "has a bad IPv4 address";
  bool edge = host.front() == '-' || host.front() == '.' || host.back() == '-';
  return allOf(host, isHostChar) && !edge ? "" : "has a bad host name";
}

AddressResult fail(std::string why) {
  return {std::nullopt, std::move(why)};
}

AddressResult parseTcp(std::string_view hostport) {
  std::string problem = hostPortProblem(hostport, true);
  if (!problem.empty())
    return fail(problem);
  size_t colon = hostport.rfind(':');
  Address a;
  a.kind = Address::Kind::kTcp;
  a.host = std::string(hostport.substr(0, colon));
  if (a.host.starts_with('['))
    a.host = a.host.substr(1, a.host.size() - 2);
  a.port = static_cast<uint16_t>(*digits(hostport.substr(colon + 1)));
  return {a, {}};
}

} // namespace

std::string hostPortProblem(std::string_view text, bool port_required) {
  size_t close = text.starts_with('[') ? text.find(']') : 0;
  if (close == std::string_view::npos)
    return "has an unclosed '['";
  size_t colon = text.find(':', close);
  if (!text.starts_with('[') && colon != std::string_view::npos &&
      text.find(':', colon + 1) != std::string_view::npos)
    return "has an IPv6 host without brackets (write [::1]:PORT)";
  if (text.starts_with('[') && close + 1 != text.size() && text[close + 1] != ':')
    return "has text after ']' that is not :PORT";
  if (colon == std::string_view::npos)
    return port_required ? "has no :PORT" : hostProblem(std::string(text));
  auto port = digits(text.substr(colon + 1));
  if (!port || *port < 1 || *port > 65535)
    return "has a bad port (want 1..65535)";
  return hostProblem(std::string(text.substr(0, colon)));
}

AddressResult parseAddress(std::string_view text) {
  if (text.empty())
    return fail("is empty");
  if (text.starts_with("unix:")) {
    std::string_view path = text.substr(5);
    if (path.empty() || path.size() > kMaxUnixPath || path.find('\0') != std::string_view::npos)
      return fail("is not a unix socket path of 1..107 bytes");
    Address a;
    a.path = std::string(path);
    return {a, {}};
  }
  if (text.starts_with("tcp:"))
    return parseTcp(text.substr(4));
  if (text.starts_with("fd:")) {
    auto fd = digits(text.substr(3));
    if (!fd || *fd > INT_MAX)
      return fail("has a bad descriptor number (want fd:N, N >= 0)");
    Address a;
    a.kind = Address::Kind::kFd;
    a.fd = static_cast<int>(*fd);
    return {a, {}};
  }
  return fail("is not unix:PATH, tcp:HOST:PORT or fd:N");
}

} // namespace holdfast::util
