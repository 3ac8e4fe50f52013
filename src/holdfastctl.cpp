// holdfastctl: publish and administer from the command line, over FastCGI straight to the
// control socket (no web server needed) or over HTTP to a control mount.
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fastcgi.h>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "fcgi/encoder.h"
#include "auth/tokens.h"
#include "util/json.h"

namespace {

struct Options {
  std::string control = "unix:/run/holdfast/control.sock";
  std::string url;    // http://host:port/push/ctl
  std::string mount = "/push/ctl";
  std::string key;
  std::string event;
  std::string type;
  std::string token_key;
  long ttl = 3600;
  std::vector<std::string> args;
};

struct Response {
  int status = 0;
  std::string body;
};

const char* kUsage =
    "usage: holdfastctl [--control ADDR | --url URL] [--key KEY] [--mount PATH] COMMAND ...\n"
    "  ADDR is unix:PATH or tcp:HOST:PORT (FastCGI to the control socket, default\n"
    "  unix:/run/holdfast/control.sock); URL is http://HOST[:PORT]/MOUNT (HTTP to a control\n"
    "  mount). KEY defaults to $HOLDFAST_PUBLISH_KEY.\n"
    "commands:\n"
    "  publish CHANNEL[,CHANNEL...] [DATA|-] [--event NAME] [--type CONTENT-TYPE]\n"
    "          DATA '-' or absent reads stdin; the type defaults to application/json when\n"
    "          DATA is valid JSON, else text/plain\n"
    "  info CHANNEL | list | delete CHANNEL | close SESSION | stats | metrics | health\n"
    "  token CHANNEL --token-key KEY [--ttl SECONDS]   print a private-channel token\n"
    "exit status: 0 on a 2xx answer, 1 on another answer, 2 on a usage or connection error\n";

int connectTo(const std::string& addr, std::string& error) {
  if (addr.rfind("unix:", 0) == 0) {
    sockaddr_un sa{};
    std::string path = addr.substr(5);
    if (path.size() >= sizeof sa.sun_path) {
      error = "socket path too long";
      return -1;
    }
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path.c_str(), path.size());
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0)
      return fd;
    error = "connect " + addr + ": " + strerror(errno);
    if (fd >= 0)
      close(fd);
    return -1;
  }
  std::string hostport = addr.rfind("tcp:", 0) == 0 ? addr.substr(4) : addr;
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) {
    error = "address needs HOST:PORT: " + addr;
    return -1;
  }
  std::string host = hostport.substr(0, colon);
  if (host.size() > 1 && host.front() == '[')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host.c_str(), hostport.substr(colon + 1).c_str(), &hints, &res) != 0) {
    error = "cannot resolve " + host;
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM, 0);
  bool ok = fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0;
  freeaddrinfo(res);
  if (!ok) {
    error = "connect " + addr + ": " + strerror(errno);
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

bool sendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n <= 0)
      return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string readAll(int fd) {
  std::string out;
  char buf[16384];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

// Splits a CGI/HTTP response into status and body. `cgi` responses carry "Status:".
Response parseHead(const std::string& raw, bool cgi) {
  Response r;
  auto end = raw.find("\r\n\r\n");
  std::string head = raw.substr(0, end);
  r.body = end == std::string::npos ? "" : raw.substr(end + 4);
  if (cgi) {
    auto pos = head.find("Status: ");
    r.status = pos == std::string::npos ? 200 : atoi(head.c_str() + pos + 8);
  } else {
    auto sp = head.find(' ');
    r.status = sp == std::string::npos ? 0 : atoi(head.c_str() + sp + 1);
  }
  return r;
}

std::optional<Response> viaFastCgi(const Options& o, const std::string& method,
                                   const std::string& uri, const std::string& type,
                                   const std::string& body, std::string& error) {
  int fd = connectTo(o.control, error);
  if (fd < 0)
    return std::nullopt;
  std::vector<std::pair<std::string, std::string>> params = {
      {"REQUEST_METHOD", method}, {"REQUEST_URI", uri},     {"SCRIPT_NAME", uri},
      {"SERVER_PROTOCOL", "HTTP/1.1"}, {"GATEWAY_INTERFACE", "CGI/1.1"},
      {"CONTENT_LENGTH", std::to_string(body.size())}};
  if (!type.empty())
    params.emplace_back("CONTENT_TYPE", type);
  if (!o.key.empty())
    params.emplace_back("HTTP_AUTHORIZATION", "Bearer " + o.key);
  std::string out;
  holdfast::fcgi::appendBeginRequest(out, 1, FCGI_RESPONDER, false);
  holdfast::fcgi::appendParams(out, 1, params);
  holdfast::fcgi::appendStream(out, FCGI_STDIN, 1, body);
  if (!body.empty())
    holdfast::fcgi::appendStream(out, FCGI_STDIN, 1, "");
  if (!sendAll(fd, out)) {
    error = "write failed";
    close(fd);
    return std::nullopt;
  }
  std::string raw = readAll(fd);
  close(fd);
  // Collect STDOUT content from the records.
  std::string stdout_data;
  size_t pos = 0;
  while (pos + 8 <= raw.size()) {
    auto* h = reinterpret_cast<const unsigned char*>(raw.data() + pos);
    size_t len = (h[4] << 8) | h[5];
    size_t pad = h[6];
    if (pos + 8 + len + pad > raw.size())
      break;
    if (h[1] == FCGI_STDOUT)
      stdout_data.append(raw, pos + 8, len);
    pos += 8 + len + pad;
  }
  return parseHead(stdout_data, true);
}

std::optional<Response> viaHttp(const Options& o, const std::string& method,
                                const std::string& path, const std::string& type,
                                const std::string& body, std::string& error) {
  std::string rest = o.url.substr(7);  // after http://
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string host = hostport;
  if (hostport.find(':') == std::string::npos)
    hostport += ":80";
  int fd = connectTo("tcp:" + hostport, error);
  if (fd < 0)
    return std::nullopt;
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + host +
                    "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (!type.empty())
    req += "Content-Type: " + type + "\r\n";
  if (!o.key.empty())
    req += "Authorization: Bearer " + o.key + "\r\n";
  req += "\r\n" + body;
  if (!sendAll(fd, req)) {
    error = "write failed";
    close(fd);
    return std::nullopt;
  }
  std::string raw = readAll(fd);
  close(fd);
  Response r = parseHead(raw, false);
  if (raw.find("Transfer-Encoding: chunked") != std::string::npos) {
    std::string decoded;
    size_t p = 0;
    while (p < r.body.size()) {
      size_t n = strtoul(r.body.c_str() + p, nullptr, 16);
      auto eol = r.body.find("\r\n", p);
      if (n == 0 || eol == std::string::npos)
        break;
      decoded.append(r.body, eol + 2, n);
      p = eol + 2 + n + 2;
    }
    r.body = decoded;
  }
  return r;
}

int run(const Options& o, const std::string& method, const std::string& route,
        const std::string& type = "", const std::string& body = "") {
  std::string error;
  std::optional<Response> r;
  if (!o.url.empty()) {
    if (o.url.rfind("http://", 0) != 0) {
      std::cerr << "holdfastctl: --url must start with http://\n";
      return 2;
    }
    std::string base = o.url.substr(7);
    auto slash = base.find('/');
    std::string prefix = slash == std::string::npos ? "" : base.substr(slash);
    while (!prefix.empty() && prefix.back() == '/')
      prefix.pop_back();
    r = viaHttp(o, method, prefix + route, type, body, error);
  } else {
    r = viaFastCgi(o, method, o.mount + route, type, body, error);
  }
  if (!r) {
    std::cerr << "holdfastctl: " << error << "\n";
    return 2;
  }
  std::cout << r->body;
  if (!r->body.empty() && r->body.back() != '\n')
    std::cout << "\n";
  if (r->status < 200 || r->status > 299) {
    std::cerr << "holdfastctl: HTTP status " << r->status << "\n";
    return 1;
  }
  return 0;
}

bool parseOptions(int argc, char** argv, Options& o) {
  if (const char* k = getenv("HOLDFAST_PUBLISH_KEY"))
    o.key = k;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc)
        return false;
      out = argv[++i];
      return true;
    };
    std::string ttl;
    bool ok = true;
    if (a == "--control") ok = value(o.control);
    else if (a == "--url") ok = value(o.url);
    else if (a == "--mount") ok = value(o.mount);
    else if (a == "--key") ok = value(o.key);
    else if (a == "--event") ok = value(o.event);
    else if (a == "--type") ok = value(o.type);
    else if (a == "--token-key") ok = value(o.token_key);
    else if (a == "--ttl") { ok = value(ttl); o.ttl = atol(ttl.c_str()); ok = ok && o.ttl > 0; }
    else if (a == "-h" || a == "--help") return false;
    else if (a.size() > 1 && a[0] == '-' && a != "-") {
      std::cerr << "holdfastctl: unknown option " << a << "\n";
      return false;
    } else o.args.push_back(a);
    if (!ok) {
      std::cerr << "holdfastctl: " << a << " needs a valid value\n";
      return false;
    }
  }
  return !o.args.empty();
}

int publish(const Options& o) {
  if (o.args.size() < 2 || o.args.size() > 3)
    return -1;
  std::string data;
  if (o.args.size() == 2 || o.args[2] == "-")
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  else
    data = o.args[2];
  std::string type = o.type;
  if (type.empty())
    type = holdfast::util::validateJson(data).ok ? "application/json" : "text/plain; charset=utf-8";
  std::string route = "/pub/" + o.args[1];
  if (!o.event.empty())
    route += "?event=" + o.event;
  return run(o, "POST", route, type, data);
}

} // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parseOptions(argc, argv, o)) {
    fputs(kUsage, stderr);
    return 2;
  }
  const std::string& cmd = o.args[0];
  size_t n = o.args.size();
  int rc = -1;
  if (cmd == "publish") rc = publish(o);
  else if (cmd == "info" && n == 2) rc = run(o, "GET", "/channels/" + o.args[1]);
  else if (cmd == "list" && n == 1) rc = run(o, "GET", "/channels");
  else if (cmd == "delete" && n == 2) rc = run(o, "DELETE", "/channels/" + o.args[1]);
  else if (cmd == "close" && n == 2) rc = run(o, "POST", "/session/" + o.args[1] + "/close");
  else if (cmd == "stats" && n == 1) rc = run(o, "GET", "/stats");
  else if (cmd == "metrics" && n == 1) rc = run(o, "GET", "/metrics");
  else if (cmd == "health" && n == 1) rc = run(o, "GET", "/health");
  else if (cmd == "token" && n == 2 && !o.token_key.empty()) {
    std::cout << holdfast::auth::makeSubscribeToken(o.token_key, o.args[1], time(nullptr) + o.ttl)
              << "\n";
    rc = 0;
  }
  if (rc < 0) {
    fputs(kUsage, stderr);
    return 2;
  }
  return rc;
}
