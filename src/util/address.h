// Listener and client addresses: unix:PATH, tcp:HOST:PORT and fd:N. The one parser of that
// syntax, shared by config validation, the server's listeners and holdfastctl. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace holdfast::util {

struct Address {
  // Which form the text had.
  enum class Kind {
    kUnix, // unix:PATH (path in `path`)
    kTcp,  // tcp:HOST:PORT (host without IPv6 brackets in `host`, port in `port`)
    kFd,   // fd:N, an inherited listening socket (number in `fd`)
  };
  Kind kind = Kind::kUnix;
  std::string path;
  std::string host;
  uint16_t port = 0;
  int fd = -1;
};

// The parsed address, or an error phrase that reads after the quoted text ("has no :PORT").
struct AddressResult {
  std::optional<Address> address;
  std::string error; // empty when `address` is set
};

// Parses `text`. An empty text is an error here ("is empty"); config treats empty as
// "disabled" before calling this. unix paths are 1..107 bytes without NUL; tcp hosts are IPv4
// addresses, host names or bracketed IPv6 addresses with a port 1..65535; fd numbers fit int.
AddressResult parseAddress(std::string_view text);

// Why "HOST:PORT" / "[V6]:PORT" (or, when !port_required, also "HOST") is malformed, or "".
// Also used for the host part of CORS origins.
std::string hostPortProblem(std::string_view text, bool port_required);

} // namespace holdfast::util
