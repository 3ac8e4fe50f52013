// fcgi encoder: exact bytes of each record kind, stream splitting at 65535 with padding to 8.
#include <catch2/catch.hpp>

#include <fastcgi.h>

#include <string>
#include <vector>

#include "fcgi/encoder.h"
#include "fcgi/parser.h"

using namespace holdfast::fcgi;

namespace {

struct Record {
  uint8_t version = 0;
  uint8_t type = 0;
  uint16_t id = 0;
  std::string content;
  std::string padding;
};

// Splits encoder output into records, independently of the parser; fails the test on leftovers.
std::vector<Record> records(std::string_view bytes) {
  std::vector<Record> out;
  auto at = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[i])); };
  while (bytes.size() >= 8) {
    Record r;
    r.version = static_cast<uint8_t>(at(0));
    r.type = static_cast<uint8_t>(at(1));
    r.id = static_cast<uint16_t>(at(2) << 8 | at(3));
    const size_t length = at(4) << 8 | at(5);
    const size_t padding = at(6);
    REQUIRE(at(7) == 0);
    REQUIRE(bytes.size() >= 8 + length + padding);
    r.content = bytes.substr(8, length);
    r.padding = bytes.substr(8 + length, padding);
    out.push_back(r);
    bytes.remove_prefix(8 + length + padding);
  }
  REQUIRE(bytes.empty());
  return out;
}

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values)
    s.push_back(static_cast<char>(v));
  return s;
}

} // namespace

TEST_CASE("recordHeader and paddingFor", "[fcgi]") {
  const auto h = recordHeader(FCGI_STDOUT, 0x1234, 0xABCD, 3);
  CHECK(std::string(h.begin(), h.end()) == bytes({1, 6, 0x12, 0x34, 0xAB, 0xCD, 3, 0}));
  CHECK(paddingFor(0) == 0);
  CHECK(paddingFor(1) == 7);
  CHECK(paddingFor(8) == 0);
  CHECK(paddingFor(13) == 3);
  CHECK(paddingFor(65535) == 1);
}

TEST_CASE("a 200,000-byte STDOUT is split into padded records of at most 65535", "[fcgi]") {
  std::string data(200000, '\0');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>('A' + i % 23);
  std::string out = "prefix";
  appendStdout(out, 7, data);
  REQUIRE(out.compare(0, 6, "prefix") == 0);
  const auto recs = records(std::string_view(out).substr(6));
  REQUIRE(recs.size() == 4);
  std::string joined;
  for (const Record& r : recs) {
    CHECK(r.version == FCGI_VERSION_1);
    CHECK(r.type == FCGI_STDOUT);
    CHECK(r.id == 7);
    CHECK(r.content.size() <= 65535);
    CHECK((r.content.size() + r.padding.size()) % 8 == 0);
    CHECK(r.padding.size() < 8);
    CHECK(r.padding == std::string(r.padding.size(), '\0'));
    joined += r.content;
  }
  CHECK(recs[0].content.size() == 65535);
  CHECK(recs[3].content.size() == 200000 - 3 * 65535);
  CHECK(recs[3].padding.size() == 5);
  CHECK(joined == data);
}

TEST_CASE("appendStream: exact-size and empty streams", "[fcgi]") {
  std::string out;
  appendStream(out, FCGI_STDIN, 1, std::string(65535, 'x'));
  auto recs = records(out);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].content.size() == 65535);
  out.clear();
  appendStream(out, FCGI_STDIN, 1, std::string(65536, 'x'));
  recs = records(out);
  REQUIRE(recs.size() == 2);
  CHECK(recs[1].content == "x");
  CHECK(recs[1].padding.size() == 7);
  out.clear();
  appendStream(out, FCGI_PARAMS, 2, "");
  CHECK(out == bytes({1, FCGI_PARAMS, 0, 2, 0, 0, 0, 0}));
}

TEST_CASE("appendStdout with empty data appends nothing; appendEndOfStdout the empty record",
          "[fcgi]") {
  std::string out;
  appendStdout(out, 1, "");
  CHECK(out.empty());
  appendStdout(out, 1, "hi");
  CHECK(out == bytes({1, 6, 0, 1, 0, 2, 6, 0, 'h', 'i', 0, 0, 0, 0, 0, 0}));
  out.clear();
  appendEndOfStdout(out, 0x0102);
  CHECK(out == bytes({1, 6, 1, 2, 0, 0, 0, 0}));
}

TEST_CASE("appendEndRequest and appendUnknownType bodies", "[fcgi]") {
  std::string out;
  appendEndRequest(out, 5, 0x01020304, FCGI_UNKNOWN_ROLE);
  CHECK(out ==
        bytes({1, FCGI_END_REQUEST, 0, 5, 0, 8, 0, 0, 1, 2, 3, 4, FCGI_UNKNOWN_ROLE, 0, 0, 0}));
  out.clear();
  appendUnknownType(out, 42);
  CHECK(out == bytes({1, FCGI_UNKNOWN_TYPE, 0, 0, 0, 8, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_CASE("appendNameValue uses 1-byte lengths below 128 and 4-byte lengths above", "[fcgi]") {
  std::string out;
  appendNameValue(out, "ab", "");
  CHECK(out == bytes({2, 0, 'a', 'b'}));
  out.clear();
  appendNameValue(out, std::string(127, 'n'), std::string(128, 'v'));
  CHECK(out.substr(0, 5) == bytes({127, 0x80, 0, 0, 128}));
  CHECK(out.size() == 5 + 127 + 128);
  out.clear();
  appendNameValue(out, "k", std::string(0x012345, 'v'));
  CHECK(out.substr(0, 5) == bytes({1, 0x80, 0x01, 0x23, 0x45}));
}

TEST_CASE("appendGetValuesResult is one management record of name-value pairs", "[fcgi]") {
  const std::string long_value(200, '9');
  std::string out;
  appendGetValuesResult(out, {{FCGI_MAX_CONNS, "10"}, {FCGI_MPXS_CONNS, long_value}});
  const auto recs = records(out);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].type == FCGI_GET_VALUES_RESULT);
  CHECK(recs[0].id == 0);
  CHECK((recs[0].content.size() + recs[0].padding.size()) % 8 == 0);
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  REQUIRE(decodeNameValuePairs(recs[0].content, pairs));
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0].first == FCGI_MAX_CONNS);
  CHECK(pairs[0].second == "10");
  CHECK(pairs[1].first == FCGI_MPXS_CONNS);
  CHECK(pairs[1].second == long_value);
  CHECK(recs[0].content.substr(18, 5) == bytes({15, 0x80, 0, 0, 200}));
  out.clear();
  appendGetValuesResult(out, {});
  CHECK(out == bytes({1, FCGI_GET_VALUES_RESULT, 0, 0, 0, 0, 0, 0}));
}

TEST_CASE("client side: begin, params with terminator, abort", "[fcgi]") {
  std::string out;
  appendBeginRequest(out, 0x0203, FCGI_RESPONDER, true);
  CHECK(out ==
        bytes({1, FCGI_BEGIN_REQUEST, 2, 3, 0, 8, 0, 0, 0, 1, FCGI_KEEP_CONN, 0, 0, 0, 0, 0}));
  out.clear();
  appendBeginRequest(out, 1, FCGI_FILTER, false);
  CHECK(out.substr(8) == bytes({0, 3, 0, 0, 0, 0, 0, 0}));
  out.clear();
  appendParams(out, 1, {{"A", "1"}, {"BB", "22"}});
  CHECK(out ==
        bytes({1,   FCGI_PARAMS, 0, 1, 0, 10, 6, 0, 1, 1,           'A', '1', 2, 2, 'B', 'B',
               '2', '2',         0, 0, 0, 0,  0, 0, 1, FCGI_PARAMS, 0,   1,   0, 0, 0,   0}));
  out.clear();
  appendParams(out, 1, {});
  CHECK(out == bytes({1, FCGI_PARAMS, 0, 1, 0, 0, 0, 0}));
  out.clear();
  appendAbortRequest(out, 9);
  CHECK(out == bytes({1, FCGI_ABORT_REQUEST, 0, 9, 0, 0, 0, 0}));
}
