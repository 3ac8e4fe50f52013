// FastCGI records around bytes that a fan-out sends to many requests: encoded once per request
// id and reused for every request with that id (lighttpd, nginx and Apache use id 1 on every
// connection, so a whole fan-out usually shares one encoding).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

namespace holdfast::fcgi {

class SharedRecords {
public:
  using Bytes = std::shared_ptr<const std::string>;

  // The STDOUT records carrying `content` for request `id`; with `end`, followed by the empty
  // STDOUT record and END_REQUEST (app status 0, FCGI_REQUEST_COMPLETE). The result is
  // immutable. Cached by (content, id, end): the cache keeps `content` alive, so its address
  // cannot be reused for other bytes while cached.
  const Bytes& get(const Bytes& content, uint16_t id, bool end);

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

private:
  struct Slot {
    Bytes content;
    uint16_t id = 0;
    Bytes records;
  };
  std::array<Slot, 2> slots_; // indexed by `end`
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

} // namespace holdfast::fcgi
