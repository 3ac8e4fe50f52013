// fcgi shared records: the bytes equal the per-request encoding, and are encoded once per
// (content, request id, end).
#include <catch2/catch.hpp>

#include <fastcgi.h>

#include <memory>
#include <string>

#include "fcgi/encoder.h"
#include "fcgi/shared_records.h"

using namespace holdfast::fcgi;

namespace {
std::string perRequest(std::string_view content, uint16_t id, bool end) {
  std::string out;
  appendStdout(out, id, content);
  if (end) {
    appendEndOfStdout(out, id);
    appendEndRequest(out, id, 0, FCGI_REQUEST_COMPLETE);
  }
  return out;
}
} // namespace

TEST_CASE("shared records are the same bytes as a per-request encoding", "[fcgi][shared]") {
  SharedRecords cache;
  auto body = std::make_shared<const std::string>("Status: 200 OK\r\n\r\n{}");
  CHECK(*cache.get(body, 1, false) == perRequest(*body, 1, false));
  CHECK(*cache.get(body, 1, true) == perRequest(*body, 1, true));
  CHECK(*cache.get(body, 7, true) == perRequest(*body, 7, true));
  auto big = std::make_shared<const std::string>(70000, 'x');
  CHECK(*cache.get(big, 1, true) == perRequest(*big, 1, true));
}

TEST_CASE("shared records are encoded once per content, id and end", "[fcgi][shared]") {
  SharedRecords cache;
  auto body = std::make_shared<const std::string>("data: x\n\n");
  const auto* first = cache.get(body, 1, false).get();
  CHECK(cache.get(body, 1, false).get() == first);
  CHECK(cache.get(body, 1, true).get() != first); // other slot: stream end added
  CHECK(cache.get(body, 1, false).get() == first);
  CHECK(cache.hits() == 2);
  CHECK(cache.misses() == 2);
  CHECK(cache.get(body, 2, false).get() != first); // another request id
  auto other = std::make_shared<const std::string>("data: x\n\n");
  cache.get(other, 2, false); // equal text, other bytes: encoded again
  CHECK(cache.misses() == 4);
}
