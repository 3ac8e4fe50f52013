// Where the Redis engine connects: `redis://[:password@]host:port[/db]` or
// `unix:/path/to/redis.sock`, parsed without touching the network.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace holdfast::redis {

struct Address {
  enum class Kind {
    kTcp,  // host + port
    kUnix, // path
  };
  Kind kind = Kind::kTcp;
  std::string host;     // kTcp: a host name, IPv4 address or IPv6 address without brackets
  uint16_t port = 6379; // kTcp
  std::string path;     // kUnix
  std::string password; // empty: no AUTH (from the URL; a file or the environment may set it)
  uint32_t db = 0;      // SELECT db after connecting
  bool operator==(const Address&) const = default;
};

// Parses a Redis URL. On error returns nullopt and sets `error` to what is wrong (never echoes
// the password). The port defaults to 6379 and the database to 0.
std::optional<Address> parseUrl(std::string_view url, std::string& error);

// "host:port/db" or "unix:/path/db": the address for logs, without the password.
std::string describe(const Address& address);

} // namespace holdfast::redis
