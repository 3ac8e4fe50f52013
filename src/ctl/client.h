// holdfastctl's requests: one HTTP-style request either as FastCGI straight to a holdfast
// socket (decoded with fcgi::ResponseParser) or as HTTP/1.1 to a web server mount. Blocking
// sockets; the CLI does one request at a time.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/address.h"

namespace holdfast::ctl {

// Where requests go. FastCGI: `address` (unix: or tcp:). HTTP: `http_host` (HOST[:PORT], sent
// as Host) with `address` the tcp address to connect to.
struct Endpoint {
  bool http = false;
  util::Address address;
  std::string http_host;
  std::string prefix; // mount path prepended to every route ("/push/ctl")
};

// Builds an Endpoint from "unix:PATH" / "tcp:HOST:PORT" (FastCGI) plus a mount, or from an
// "http://HOST[:PORT]/PATH" URL (PATH becomes the prefix). nullopt with `error` when malformed.
std::optional<Endpoint> fastcgiEndpoint(const std::string& address, const std::string& mount,
                                        std::string& error);
std::optional<Endpoint> httpEndpoint(const std::string& url, std::string& error);

struct Request {
  std::string method = "GET";
  std::string route; // below the prefix, with the query ("/channels?limit=10")
  std::vector<std::pair<std::string, std::string>> headers; // "Content-Type", "Authorization"...
  std::string body;
  int timeout_seconds = 30; // send/receive timeout of the socket
};

struct Reply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Sends `request` and waits for the whole reply. nullopt with `error` on connection, protocol
// or timeout problems (the caller reports them as exit status 2).
std::optional<Reply> send(const Endpoint& endpoint, const Request& request, std::string& error);

} // namespace holdfast::ctl
