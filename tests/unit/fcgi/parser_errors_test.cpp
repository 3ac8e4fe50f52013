// fcgi::Parser protocol errors: each is fatal, names the record type and id, reports no event
// for the bad record, and is found identically under any split (parseAllSplits).
#include <catch2/catch.hpp>

#include <fastcgi.h>

#include <string>
#include <vector>

#include "fcgi/parser.h"

namespace holdfast::fcgi::testing {
// Defined in split_harness.cpp.
std::vector<std::string> parseAllSplits(std::string_view input, ParserLimits limits,
                                        const std::vector<std::string>& end_after);
} // namespace holdfast::fcgi::testing

using holdfast::fcgi::ParserLimits;
using Events = std::vector<std::string>;

namespace {

Events parse(std::string_view input, ParserLimits limits = {}, const Events& end_after = {}) {
  return holdfast::fcgi::testing::parseAllSplits(input, limits, end_after);
}

std::string raw(uint8_t type, uint16_t id, std::string_view content, uint8_t padding = 0,
                uint8_t version = FCGI_VERSION_1) {
  std::string r = {char(version),
                   char(type),
                   char(id >> 8),
                   char(id & 0xff),
                   char(content.size() >> 8),
                   char(content.size() & 0xff),
                   char(padding),
                   0};
  r.append(content);
  r.append(padding, '\0');
  return r;
}

std::string begin(uint16_t id) {
  return raw(FCGI_BEGIN_REQUEST, id, std::string{0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0});
}

std::string nv(std::string_view name, std::string_view value) {
  return std::string{char(name.size()), char(value.size())} + std::string(name) +
         std::string(value);
}

const std::string kBegin1 = "begin 1 role=1 keep=0";

} // namespace

TEST_CASE("version other than 1 is an error, before the content arrives", "[fcgi]") {
  CHECK(parse(raw(FCGI_BEGIN_REQUEST, 1, std::string(8, '\0'), 0, 2)) ==
        Events{"error: FCGI_BEGIN_REQUEST record for request 1: unsupported protocol version 2"});
  // A header alone is enough to fail: the parser does not wait for 8 bytes of content.
  CHECK(parse(begin(1) + raw(FCGI_PARAMS, 1, "", 0, 0).substr(0, 8)) ==
        Events{kBegin1, "error: FCGI_PARAMS record for request 1: unsupported protocol version 0"});
}

TEST_CASE("BEGIN_REQUEST with a content length other than 8 is an error", "[fcgi]") {
  for (size_t length : {0, 7, 9, 16}) {
    INFO("content length " << length);
    CHECK(parse(raw(FCGI_BEGIN_REQUEST, 1, std::string(length, '\1'))) ==
          Events{"error: FCGI_BEGIN_REQUEST record for request 1: content length " +
                 std::to_string(length) + ", expected 8"});
  }
}

TEST_CASE("BEGIN_REQUEST on id 0 or on an active id is an error", "[fcgi]") {
  CHECK(parse(begin(0)) == Events{"error: FCGI_BEGIN_REQUEST record for request 0: request id 0 "
                                  "is reserved for management records"});
  CHECK(parse(begin(1) + begin(2) + begin(1)) ==
        Events{kBegin1, "begin 2 role=1 keep=0",
               "error: FCGI_BEGIN_REQUEST record for request 1: request id is already active"});
}

TEST_CASE("more than max_requests active requests is an error", "[fcgi]") {
  ParserLimits limits;
  limits.max_requests = 2;
  CHECK(parse(begin(1) + begin(2) + begin(3), limits) ==
        Events{kBegin1, "begin 2 role=1 keep=0",
               "error: FCGI_BEGIN_REQUEST record for request 3: more than 2 concurrent requests "
               "on one connection"});
  // An ended request frees its slot.
  CHECK(parse(begin(1) + begin(2) + begin(3), limits, {kBegin1}) ==
        Events{kBegin1, "begin 2 role=1 keep=0", "begin 3 role=1 keep=0"});
}

TEST_CASE("malformed name-value pairs in PARAMS are an error and report no pair", "[fcgi]") {
  const std::string good = nv("A", "1");
  const std::vector<std::string> bad = {
      good + "\x05",                         // value length missing
      good + std::string("\x80\x00\x01", 3), // 4-byte name length truncated
      good + std::string("\x03\x02"
                         "ab",
                         4), // name longer than what is left
      good + std::string("\x01\x05"
                         "ab",
                         4), // value longer than what is left
      std::string("\x01\x80\x00\x00\x09"
                  "ab",
                  7)}; // 4-byte value length past the end
  for (const std::string& stream : bad) {
    CHECK(parse(begin(1) + raw(FCGI_PARAMS, 1, stream) + raw(FCGI_PARAMS, 1, "")) ==
          Events{kBegin1, "error: FCGI_PARAMS record for request 1: malformed name-value pair in "
                          "the params stream"});
  }
}

TEST_CASE("a params stream over max_params_bytes is dropped and reported, not an error", "[fcgi]") {
  ParserLimits limits;
  limits.max_params_bytes = 100;
  const std::string first = nv("A", std::string(58, 'a')); // 61 bytes
  const std::string exact = nv("B", std::string(36, 'b')); // 39 bytes: 100 in all, allowed
  CHECK(parse(begin(1) + raw(FCGI_PARAMS, 1, first) + raw(FCGI_PARAMS, 1, exact) +
                  raw(FCGI_PARAMS, 1, ""),
              limits) == Events{kBegin1, "param 1 A=" + std::string(58, 'a'),
                                "param 1 B=" + std::string(36, 'b'), "params-end 1"});
  // One byte more: no pair is reported, the request goes on to its STDIN.
  CHECK(parse(begin(1) + raw(FCGI_PARAMS, 1, first) + raw(FCGI_PARAMS, 1, exact + "x") +
                  raw(FCGI_PARAMS, 1, std::string(500, 'z')) + raw(FCGI_PARAMS, 1, "") +
                  raw(FCGI_STDIN, 1, ""),
              limits) == Events{kBegin1, "params-too-large 1", "params-end 1", "stdin-end 1"});
}

TEST_CASE("PARAMS after the end of the params stream is an error", "[fcgi]") {
  const std::string done = begin(1) + raw(FCGI_PARAMS, 1, "");
  const Events before = {kBegin1, "params-end 1"};
  const std::string error =
      "error: FCGI_PARAMS record for request 1: PARAMS after the end of the params stream";
  CHECK(parse(done + raw(FCGI_PARAMS, 1, nv("A", "1"))) == Events{before[0], before[1], error});
  CHECK(parse(done + raw(FCGI_PARAMS, 1, "")) == Events{before[0], before[1], error});
}

TEST_CASE("STDIN before the end of the params stream is an error", "[fcgi]") {
  const std::string error =
      "error: FCGI_STDIN record for request 1: STDIN before the end of the params stream";
  CHECK(parse(begin(1) + raw(FCGI_STDIN, 1, "x")) == Events{kBegin1, error});
  CHECK(parse(begin(1) + raw(FCGI_PARAMS, 1, nv("A", "1")) + raw(FCGI_STDIN, 1, "")) ==
        Events{kBegin1, error});
}

TEST_CASE("STDIN after the empty STDIN record is an error", "[fcgi]") {
  const std::string done =
      begin(1) + raw(FCGI_PARAMS, 1, "") + raw(FCGI_STDIN, 1, "x") + raw(FCGI_STDIN, 1, "");
  const std::string error =
      "error: FCGI_STDIN record for request 1: STDIN after the end of the stdin stream";
  const Events ok = {kBegin1, "params-end 1", "stdin 1 x", "stdin-end 1"};
  CHECK(parse(done + raw(FCGI_STDIN, 1, "y")) == Events{ok[0], ok[1], ok[2], ok[3], error});
  CHECK(parse(done + raw(FCGI_STDIN, 1, "")) == Events{ok[0], ok[1], ok[2], ok[3], error});
}

TEST_CASE("record types only an application sends are errors, on any id", "[fcgi]") {
  const std::vector<std::pair<uint8_t, std::string>> types = {
      {FCGI_END_REQUEST, "FCGI_END_REQUEST"},
      {FCGI_STDOUT, "FCGI_STDOUT"},
      {FCGI_STDERR, "FCGI_STDERR"},
      {FCGI_GET_VALUES_RESULT, "FCGI_GET_VALUES_RESULT"},
      {FCGI_UNKNOWN_TYPE, "FCGI_UNKNOWN_TYPE"}};
  for (const auto& [type, name] : types) {
    for (uint16_t id : {0, 1}) {
      INFO(name << " on id " << id);
      CHECK(parse(begin(1) + raw(type, id, std::string(8, '\0'))) ==
            Events{kBegin1, "error: " + name + " record for request " + std::to_string(id) +
                                ": is sent by applications, never to a responder"});
    }
  }
}

TEST_CASE("GET_VALUES off id 0 or with malformed names is an error", "[fcgi]") {
  CHECK(parse(raw(FCGI_GET_VALUES, 3, nv(FCGI_MAX_CONNS, ""))) ==
        Events{"error: FCGI_GET_VALUES record for request 3: management record on a request id "
               "other than 0"});
  CHECK(parse(raw(FCGI_GET_VALUES, 0,
                  std::string("\x0e\x00"
                              "FCGI",
                              6))) ==
        Events{"error: FCGI_GET_VALUES record for request 0: malformed name-value pair"});
}

TEST_CASE("after an error, records that follow in the same input give no event", "[fcgi]") {
  // parseAllSplits also checks that every later feed() returns false with the same message.
  CHECK(parse(begin(0) + begin(1) + raw(FCGI_PARAMS, 1, "")) ==
        Events{"error: FCGI_BEGIN_REQUEST record for request 0: request id 0 is reserved for "
               "management records"});
}
