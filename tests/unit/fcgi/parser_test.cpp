// fcgi::Parser on well-formed input: requests, streams across records, multiplexing, management
// records, inactive ids. Every vector goes through parseAllSplits (whole, bytewise, random cuts).
#include <catch2/catch.hpp>

#include <fastcgi.h>

#include <string>
#include <vector>

#include "fcgi/encoder.h"
#include "fcgi/parser.h"

namespace holdfast::fcgi::testing {
// Defined in split_harness.cpp.
std::string show(std::string_view data);
std::vector<std::string> parseAllSplits(std::string_view input, ParserLimits limits,
                                        const std::vector<std::string>& end_after);
} // namespace holdfast::fcgi::testing

using holdfast::fcgi::decodeNameValuePairs;
using holdfast::fcgi::Parser;
using holdfast::fcgi::ParserLimits;
using holdfast::fcgi::Visitor;
using holdfast::fcgi::testing::show;
using Events = std::vector<std::string>;

namespace {

Events parse(std::string_view input, const Events& end_after = {}) {
  return holdfast::fcgi::testing::parseAllSplits(input, ParserLimits{}, end_after);
}

// A record built by hand (independent of the encoder), with explicit padding.
std::string raw(uint8_t type, uint16_t id, std::string_view content, uint8_t padding = 0) {
  std::string r = {char(FCGI_VERSION_1),
                   char(type),
                   char(id >> 8),
                   char(id & 0xff),
                   char(content.size() >> 8),
                   char(content.size() & 0xff),
                   char(padding),
                   0};
  r.append(content);
  r.append(padding, '\xAA'); // padding content is arbitrary and must be skipped
  return r;
}

std::string begin(uint16_t id, uint16_t role = FCGI_RESPONDER, uint8_t flags = 0) {
  return raw(FCGI_BEGIN_REQUEST, id,
             std::string{char(role >> 8), char(role & 0xff), char(flags), 0, 0, 0, 0, 0});
}

// Name-value pair with 1-byte lengths (both < 128).
std::string nv(std::string_view name, std::string_view value) {
  return std::string{char(name.size()), char(value.size())} + std::string(name) +
         std::string(value);
}

// Name-value pair with 4-byte lengths for both, whatever the sizes.
std::string nv4(std::string_view name, std::string_view value) {
  auto len4 = [](size_t n) {
    return std::string{char(0x80 | (n >> 24)), char((n >> 16) & 0xff), char((n >> 8) & 0xff),
                       char(n & 0xff)};
  };
  return len4(name.size()) + len4(value.size()) + std::string(name) + std::string(value);
}

// A whole PARAMS stream in one record (none if empty) plus its empty terminator.
std::string params(uint16_t id, std::string_view stream) {
  return (stream.empty() ? "" : raw(FCGI_PARAMS, id, stream)) + raw(FCGI_PARAMS, id, "");
}

// A complete GET request on `id` with one parameter and no body.
std::string simpleRequest(uint16_t id) {
  return begin(id) + params(id, nv("REQUEST_METHOD", "GET")) + raw(FCGI_STDIN, id, "");
}

Events simpleEvents(uint16_t id, const std::string& keep = "0") {
  const std::string n = std::to_string(id);
  return {"begin " + n + " role=1 keep=" + keep, "param " + n + " REQUEST_METHOD=GET",
          "params-end " + n, "stdin-end " + n};
}

} // namespace

TEST_CASE("a simple request gives begin, params, params-end, stdin-end", "[fcgi]") {
  CHECK(parse(simpleRequest(1)) == simpleEvents(1));
  CHECK(parse(begin(7, FCGI_RESPONDER, FCGI_KEEP_CONN)) == Events{"begin 7 role=1 keep=1"});
  CHECK(parse(begin(0xBEEF)) == Events{"begin 48879 role=1 keep=0"});
}

TEST_CASE("roles are reported as sent", "[fcgi]") {
  CHECK(parse(begin(1, FCGI_AUTHORIZER) + begin(2, FCGI_FILTER) + begin(3, 0x1234)) ==
        Events{"begin 1 role=2 keep=0", "begin 2 role=3 keep=0", "begin 3 role=4660 keep=0"});
}

TEST_CASE("padding of any length is skipped", "[fcgi]") {
  std::string input = begin(1) + raw(FCGI_PARAMS, 1, nv("A", "1"), 255) +
                      raw(FCGI_PARAMS, 1, "", 7) + raw(FCGI_STDIN, 1, "xyz", 5) +
                      raw(FCGI_STDIN, 1, "", 1);
  CHECK(parse(input) == Events{"begin 1 role=1 keep=0", "param 1 A=1", "params-end 1",
                               "stdin 1 xyz", "stdin-end 1"});
}

TEST_CASE("params split across records, including inside a length prefix", "[fcgi]") {
  const std::string name(200, 'N');
  const std::string value(300, 'v');
  const std::string stream = nv("A", "1") + nv4(name, value) + nv("EMPTY", "") + nv("", "x");
  // Offsets inside the 4-byte name length (5..8) and value length (9..12) of the second pair.
  const std::vector<size_t> cuts = {1, 6, 11, 100, stream.size()};
  std::string input = begin(1);
  size_t from = 0;
  for (size_t cut : cuts) {
    input += raw(FCGI_PARAMS, 1, stream.substr(from, cut - from), 3);
    from = cut;
  }
  input += raw(FCGI_PARAMS, 1, "");
  CHECK(parse(input) == Events{"begin 1 role=1 keep=0", "param 1 A=1",
                               "param 1 " + show(name) + "=" + show(value),
                               "param 1 EMPTY=", "param 1 =x", "params-end 1"});
}

TEST_CASE("4-byte lengths decode, also for short strings and the 127/128 boundary", "[fcgi]") {
  const std::string v127(127, 'a');
  const std::string v128(128, 'b');
  std::string stream = nv4("SHORT", "s") + nv("L127", v127) + nv4("L128", v128);
  CHECK(parse(begin(1) + params(1, stream)) ==
        Events{"begin 1 role=1 keep=0", "param 1 SHORT=s", "param 1 L127=" + show(v127),
               "param 1 L128=" + show(v128), "params-end 1"});
}

TEST_CASE("an empty params stream gives params-end only", "[fcgi]") {
  CHECK(parse(begin(1) + raw(FCGI_PARAMS, 1, "")) ==
        Events{"begin 1 role=1 keep=0", "params-end 1"});
}

TEST_CASE("stdin across records: one event per non-empty record", "[fcgi]") {
  std::string big(70000, 'z');
  big[0] = 'A';
  big[69999] = 'Z';
  std::string input = begin(1) + params(1, "") + raw(FCGI_STDIN, 1, "hello ", 2) +
                      raw(FCGI_STDIN, 1, "world") + raw(FCGI_STDIN, 1, big.substr(0, 65535)) +
                      raw(FCGI_STDIN, 1, big.substr(65535)) + raw(FCGI_STDIN, 1, "");
  CHECK(parse(input) == Events{"begin 1 role=1 keep=0", "params-end 1", "stdin 1 hello ",
                               "stdin 1 world", "stdin 1 " + show(big.substr(0, 65535)),
                               "stdin 1 " + show(big.substr(65535)), "stdin-end 1"});
}

TEST_CASE("multiplexed requests interleave", "[fcgi]") {
  std::string input = begin(1) + begin(2, FCGI_RESPONDER, FCGI_KEEP_CONN) +
                      raw(FCGI_PARAMS, 2, nv("X", "2")) + raw(FCGI_PARAMS, 1, nv("X", "1")) +
                      raw(FCGI_PARAMS, 1, "") + raw(FCGI_STDIN, 1, "one") +
                      raw(FCGI_PARAMS, 2, "") + raw(FCGI_STDIN, 2, "two") +
                      raw(FCGI_ABORT_REQUEST, 2, "") + raw(FCGI_STDIN, 1, "");
  CHECK(parse(input) == Events{"begin 1 role=1 keep=0", "begin 2 role=1 keep=1", "param 1 X=1",
                               "params-end 1", "stdin 1 one", "param 2 X=2", "params-end 2",
                               "stdin 2 two", "abort 2", "stdin-end 1"});
}

TEST_CASE("abort is reported for active ids, also after stdin ended", "[fcgi]") {
  CHECK(parse(simpleRequest(3) + raw(FCGI_ABORT_REQUEST, 3, "") + raw(FCGI_ABORT_REQUEST, 3, "")) ==
        Events{"begin 3 role=1 keep=0", "param 3 REQUEST_METHOD=GET", "params-end 3", "stdin-end 3",
               "abort 3", "abort 3"});
}

TEST_CASE("GET_VALUES reports the names asked for", "[fcgi]") {
  std::string query = nv(FCGI_MAX_CONNS, "") + nv(FCGI_MAX_REQS, "") + nv(FCGI_MPXS_CONNS, "");
  CHECK(parse(raw(FCGI_GET_VALUES, 0, query, 4) + raw(FCGI_GET_VALUES, 0, "")) ==
        Events{"get-values FCGI_MAX_CONNS FCGI_MAX_REQS FCGI_MPXS_CONNS", "get-values"});
}

TEST_CASE("unknown and id-0 application types are reported as unknown", "[fcgi]") {
  CHECK(parse(raw(0, 0, "") + raw(12, 0, "abc", 5) + raw(200, 4, "x") +
              raw(FCGI_ABORT_REQUEST, 0, "") + raw(FCGI_PARAMS, 0, nv("A", "b")) +
              raw(FCGI_STDIN, 0, "x")) == Events{"unknown-type 0", "unknown-type 12",
                                                 "unknown-type 200", "unknown-type 2",
                                                 "unknown-type 4", "unknown-type 5"});
}

TEST_CASE("DATA records are ignored", "[fcgi]") {
  CHECK(parse(begin(1) + raw(FCGI_DATA, 1, "data") + raw(FCGI_DATA, 1, "") +
              raw(FCGI_DATA, 0, "d") + params(1, "")) ==
        Events{"begin 1 role=1 keep=0", "params-end 1"});
}

TEST_CASE("records for ids never begun are ignored", "[fcgi]") {
  CHECK(parse(raw(FCGI_PARAMS, 5, nv("A", "1")) + raw(FCGI_PARAMS, 5, "") +
              raw(FCGI_STDIN, 5, "x") + raw(FCGI_ABORT_REQUEST, 5, "") + simpleRequest(6)) ==
        simpleEvents(6));
}

TEST_CASE("after endRequest, records for that id are ignored and the id can begin again",
          "[fcgi]") {
  std::string input = simpleRequest(1) + raw(FCGI_STDIN, 1, "late") +
                      raw(FCGI_PARAMS, 1, nv("A", "1")) + raw(FCGI_ABORT_REQUEST, 1, "") +
                      simpleRequest(1);
  Events expected = simpleEvents(1);
  Events again = simpleEvents(1);
  expected.insert(expected.end(), again.begin(), again.end());
  // Without endRequest the STDIN after its end is an error; with it, everything is ignored.
  CHECK(parse(input, {"stdin-end 1"}) == expected);
}

TEST_CASE("endRequest from onBeginRequest (unknown role) ignores the rest", "[fcgi]") {
  std::string input = begin(1, FCGI_FILTER) + params(1, nv("A", "1")) + raw(FCGI_STDIN, 1, "x") +
                      raw(FCGI_DATA, 1, "d") + simpleRequest(2);
  Events expected = {"begin 1 role=3 keep=0"};
  Events second = simpleEvents(2);
  expected.insert(expected.end(), second.begin(), second.end());
  CHECK(parse(input, {"begin 1 role=3 keep=0"}) == expected);
}

TEST_CASE("endRequest from onParam stops the remaining params of that request", "[fcgi]") {
  std::string input =
      begin(1) + params(1, nv("A", "1") + nv("B", "2") + nv("C", "3")) + raw(FCGI_STDIN, 1, "");
  CHECK(parse(input, {"param 1 B=2"}) ==
        Events{"begin 1 role=1 keep=0", "param 1 A=1", "param 1 B=2"});
}

TEST_CASE("encoder output round-trips through the parser", "[fcgi]") {
  using namespace holdfast::fcgi;
  const std::string long_value(1000, 'q');
  std::string body(150000, '.');
  for (size_t i = 0; i < body.size(); i += 7)
    body[i] = char('a' + i % 26);
  std::string input;
  appendBeginRequest(input, 9, FCGI_RESPONDER, true);
  appendParams(input, 9, {{"REQUEST_METHOD", "POST"}, {"LONG", long_value}, {"E", ""}});
  appendStream(input, FCGI_STDIN, 9, body);
  appendStream(input, FCGI_STDIN, 9, "");
  appendAbortRequest(input, 9);
  appendBeginRequest(input, 10, FCGI_AUTHORIZER, false);
  appendParams(input, 10, {});
  CHECK(parse(input) == Events{"begin 9 role=1 keep=1", "param 9 REQUEST_METHOD=POST",
                               "param 9 LONG=" + show(long_value), "param 9 E=", "params-end 9",
                               "stdin 9 " + show(body.substr(0, 65535)),
                               "stdin 9 " + show(body.substr(65535, 65535)),
                               "stdin 9 " + show(body.substr(131070)), "stdin-end 9", "abort 9",
                               "begin 10 role=2 keep=0", "params-end 10"});
}

namespace {
class NullVisitor final : public Visitor {
public:
  void onBeginRequest(uint16_t, uint16_t, bool) override {}
  void onParam(uint16_t, std::string_view, std::string_view) override {}
  void onParamsEnd(uint16_t) override {}
  void onParamsTooLarge(uint16_t) override {}
  void onStdin(uint16_t, std::string_view) override {}
  void onStdinEnd(uint16_t) override {}
  void onAbortRequest(uint16_t) override {}
  void onGetValues(const std::vector<std::string>&) override {}
  void onUnknownType(uint8_t) override {}
};
} // namespace

TEST_CASE("idle() is true only between records; isActive follows begin and endRequest", "[fcgi]") {
  Parser parser;
  NullVisitor v;
  CHECK(parser.idle());
  const std::string record = begin(1);
  REQUIRE(parser.feed(record.substr(0, 3), v));
  CHECK_FALSE(parser.idle());
  REQUIRE(parser.feed(record.substr(3, 6), v)); // header complete, content partial
  CHECK_FALSE(parser.idle());
  CHECK_FALSE(parser.isActive(1));
  REQUIRE(parser.feed(record.substr(9), v));
  CHECK(parser.idle());
  CHECK(parser.isActive(1));
  REQUIRE(parser.feed(raw(FCGI_PARAMS, 1, "", 4).substr(0, 10), v)); // padding pending
  CHECK_FALSE(parser.idle());
  REQUIRE(parser.feed("\xAA\xAA", v));
  CHECK(parser.idle());
  parser.endRequest(1);
  parser.endRequest(1); // twice is harmless
  CHECK_FALSE(parser.isActive(1));
  CHECK(parser.error().empty());
}

TEST_CASE("the parser stays small: thousands live at once", "[fcgi]") {
  // Limits, header, stage, one string for a split record, the request vector, the error.
  CHECK(sizeof(Parser) <= 96);
}

TEST_CASE("decodeNameValuePairs views the input and rejects truncation", "[fcgi]") {
  std::vector<std::pair<std::string_view, std::string_view>> pairs = {{"stale", "entry"}};
  const std::string stream = nv("a", "bc") + nv4("name", "");
  REQUIRE(decodeNameValuePairs(stream, pairs));
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0] == std::pair<std::string_view, std::string_view>{"a", "bc"});
  CHECK(pairs[1] == std::pair<std::string_view, std::string_view>{"name", ""});
  CHECK(decodeNameValuePairs("", pairs));
  CHECK(pairs.empty());
  for (size_t n = 1; n < stream.size(); ++n) {
    if (n == 5)
      continue; // the first pair alone is a complete stream
    INFO("prefix of " << n << " bytes");
    CHECK_FALSE(decodeNameValuePairs(std::string_view(stream).substr(0, n), pairs));
  }
  // A 4-byte length near 2^31 must not overflow or read past the end.
  CHECK_FALSE(decodeNameValuePairs(std::string("\xff\xff\xff\xff\x01"
                                               "ab",
                                               7),
                                   pairs));
  CHECK_FALSE(decodeNameValuePairs(std::string("\x01\xff\xff\xff\xff"
                                               "ab",
                                               7),
                                   pairs));
}
