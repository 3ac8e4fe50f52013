// Blocking FastCGI and HTTP/1.1 requests for holdfastctl (see client.h).
#include "ctl/client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fastcgi.h>

#include "fcgi/encoder.h"
#include "fcgi/response.h"

namespace holdfast::ctl {
namespace {

// Closes the descriptor on every path out.
struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0)
      close(fd);
  }
};

std::string describe(const util::Address& a) {
  if (a.kind == util::Address::Kind::kUnix)
    return "unix:" + a.path;
  bool v6 = a.host.find(':') != std::string::npos;
  return "tcp:" + (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

bool connectTo(const util::Address& a, int timeout_seconds, Socket& s, std::string& error) {
  if (a.kind == util::Address::Kind::kUnix) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, a.path.data(), a.path.size());
    s.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s.fd < 0 || connect(s.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      error = "connect " + describe(a) + ": " + strerror(errno);
      return false;
    }
  } else {
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(a.host.c_str(), std::to_string(a.port).c_str(), &hints, &res);
    if (rc != 0) {
      error = "cannot resolve " + a.host + ": " + gai_strerror(rc);
      return false;
    }
    s.fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = s.fd >= 0 && connect(s.fd, res->ai_addr, res->ai_addrlen) == 0;
    int saved = errno;
    freeaddrinfo(res);
    if (!ok) {
      error = "connect " + describe(a) + ": " + strerror(saved);
      return false;
    }
  }
  timeval tv{timeout_seconds, 0};
  setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return true;
}

bool sendAll(int fd, const std::string& data, std::string& error) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = std::string("write: ") + (n < 0 ? strerror(errno) : "connection closed");
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads one chunk; 0 at EOF, -1 with `error` on failure or timeout.
ssize_t readSome(int fd, char* buf, size_t size, std::string& error) {
  ssize_t n;
  do // SIGSTOP/SIGCONT (Ctrl-Z, fg) interrupts reads that have SO_RCVTIMEO with EINTR
    n = read(fd, buf, size);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    error = errno == EAGAIN || errno == EWOULDBLOCK ? "timed out waiting for the answer"
                                                    : std::string("read: ") + strerror(errno);
  return n;
}

// Collects STDOUT of request 1 until END_REQUEST.
struct Collector : fcgi::ResponseVisitor {
  std::string out;
  bool ended = false;
  void onStdout(uint16_t id, std::string_view d) override {
    if (id == 1)
      out.append(d);
  }
  void onStdoutEnd(uint16_t) override {}
  void onStderr(uint16_t, std::string_view) override {}
  void onEndRequest(uint16_t id, uint32_t, uint8_t) override { ended = ended || id == 1; }
};

std::string fastcgiRecords(const Endpoint& e, const Request& r) {
  std::string uri = e.prefix + r.route;
  auto q = uri.find('?');
  std::vector<std::pair<std::string, std::string>> params = {
      {"REQUEST_METHOD", r.method},
      {"REQUEST_URI", uri},
      {"SCRIPT_NAME", uri.substr(0, q)},
      {"QUERY_STRING", q == std::string::npos ? "" : uri.substr(q + 1)},
      {"SERVER_PROTOCOL", "HTTP/1.1"},
      {"GATEWAY_INTERFACE", "CGI/1.1"},
      {"CONTENT_LENGTH", std::to_string(r.body.size())}};
  for (const auto& [name, value] : r.headers) {
    if (name == "Content-Type") {
      params.emplace_back("CONTENT_TYPE", value);
      continue;
    }
    std::string cgi = "HTTP_";
    for (char c : name)
      cgi += c == '-' ? '_' : static_cast<char>(toupper(static_cast<unsigned char>(c)));
    params.emplace_back(cgi, value);
  }
  std::string out;
  fcgi::appendBeginRequest(out, 1, FCGI_RESPONDER, false);
  fcgi::appendParams(out, 1, params);
  if (!r.body.empty())
    fcgi::appendStream(out, FCGI_STDIN, 1, r.body);
  fcgi::appendStream(out, FCGI_STDIN, 1, "");
  return out;
}

std::optional<Reply> viaFastCgi(const Endpoint& e, const Request& r, std::string& error) {
  Socket s;
  if (!connectTo(e.address, r.timeout_seconds, s, error) ||
      !sendAll(s.fd, fastcgiRecords(e, r), error))
    return std::nullopt;
  fcgi::ResponseParser parser;
  Collector collected;
  char buf[16384];
  while (!collected.ended) {
    ssize_t n = readSome(s.fd, buf, sizeof buf, error);
    if (n < 0)
      return std::nullopt;
    if (n == 0) {
      error = "connection closed before the answer was complete";
      return std::nullopt;
    }
    if (!parser.feed(std::string_view(buf, static_cast<size_t>(n)), collected)) {
      error = "bad FastCGI answer: " + parser.error();
      return std::nullopt;
    }
  }
  fcgi::CgiResponse cgi;
  if (!fcgi::parseCgiResponse(collected.out, cgi)) {
    error = "bad CGI response head from holdfast";
    return std::nullopt;
  }
  return Reply{cgi.status, std::move(cgi.headers), std::move(cgi.body)};
}

// Decodes a chunked body; false when it is truncated or malformed.
bool dechunk(std::string_view body, std::string& out) {
  out.clear();
  while (true) {
    auto eol = body.find("\r\n");
    if (eol == std::string_view::npos)
      return false;
    char* end = nullptr;
    std::string size_text(body.substr(0, eol));
    unsigned long n = strtoul(size_text.c_str(), &end, 16);
    if (end == size_text.c_str())
      return false;
    if (n == 0)
      return true;
    if (body.size() < eol + 2 + n + 2)
      return false;
    out.append(body.substr(eol + 2, n));
    body.remove_prefix(eol + 2 + n + 2);
  }
}

std::optional<Reply> viaHttp(const Endpoint& e, const Request& r, std::string& error) {
  Socket s;
  std::string req = r.method + " " + e.prefix + r.route + " HTTP/1.1\r\nHost: " + e.http_host +
                    "\r\nConnection: close\r\nContent-Length: " + std::to_string(r.body.size()) +
                    "\r\n";
  for (const auto& [name, value] : r.headers)
    req += name + ": " + value + "\r\n";
  req += "\r\n" + r.body;
  if (!connectTo(e.address, r.timeout_seconds, s, error) || !sendAll(s.fd, req, error))
    return std::nullopt;
  std::string raw;
  char buf[16384];
  ssize_t n;
  while ((n = readSome(s.fd, buf, sizeof buf, error)) > 0)
    raw.append(buf, static_cast<size_t>(n));
  if (n < 0)
    return std::nullopt;
  auto line_end = raw.find("\r\n");
  auto sp = raw.find(' ');
  if (!raw.starts_with("HTTP/1.") || line_end == std::string::npos || sp > line_end) {
    error = "no HTTP answer";
    return std::nullopt;
  }
  // The rest is a CGI-style head (header lines, blank line, body).
  fcgi::CgiResponse head;
  if (!fcgi::parseCgiResponse(std::string_view(raw).substr(line_end + 2), head)) {
    error = "bad HTTP response head";
    return std::nullopt;
  }
  Reply reply{atoi(raw.c_str() + sp + 1), std::move(head.headers), std::move(head.body)};
  const std::string* te = head.header("Transfer-Encoding");
  if (te && te->find("chunked") != std::string::npos) {
    std::string decoded;
    if (!dechunk(reply.body, decoded)) {
      error = "truncated chunked HTTP body";
      return std::nullopt;
    }
    reply.body = std::move(decoded);
  }
  return reply;
}

} // namespace

std::optional<Endpoint> fastcgiEndpoint(const std::string& address, const std::string& mount,
                                        std::string& error) {
  util::AddressResult parsed = util::parseAddress(address);
  if (!parsed.address) {
    error = "address \"" + address + "\" " + parsed.error;
    return std::nullopt;
  }
  if (parsed.address->kind == util::Address::Kind::kFd) {
    error = "address \"" + address + "\": fd:N is for holdfast's listeners, use unix: or tcp:";
    return std::nullopt;
  }
  Endpoint e;
  e.address = *parsed.address;
  e.prefix = mount;
  return e;
}

std::optional<Endpoint> httpEndpoint(const std::string& url, std::string& error) {
  if (!url.starts_with("http://")) {
    error = "URL \"" + url + "\" does not start with http://";
    return std::nullopt;
  }
  std::string rest = url.substr(7);
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!prefix.empty() && prefix.back() == '/')
    prefix.pop_back();
  bool has_port =
      !hostport.empty() && hostport.back() != ']' &&
      hostport.find(':', hostport.starts_with('[') ? hostport.find(']') : 0) != std::string::npos;
  util::AddressResult parsed = util::parseAddress("tcp:" + hostport + (has_port ? "" : ":80"));
  if (!parsed.address) {
    error = "URL \"" + url + "\": host " + parsed.error;
    return std::nullopt;
  }
  Endpoint e;
  e.http = true;
  e.address = *parsed.address;
  e.http_host = hostport;
  e.prefix = prefix;
  return e;
}

std::optional<Reply> send(const Endpoint& endpoint, const Request& request, std::string& error) {
  return endpoint.http ? viaHttp(endpoint, request, error) : viaFastCgi(endpoint, request, error);
}

} // namespace holdfast::ctl
