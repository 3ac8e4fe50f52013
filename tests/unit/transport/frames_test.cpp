// Frame JSON: exact bytes of every frame type, and that each is valid JSON.
#include <catch2/catch.hpp>

#include <string>

#include <rapidjson/document.h>

#include "transport/transport.h"
#include "util/json.h"

using namespace holdfast;
using namespace holdfast::transport;

namespace {

hub::Message message(std::string json) {
  hub::Message m;
  m.channel = "news";
  m.epoch = "E";
  m.seq = 7;
  m.event = "message";
  m.time_ms = 1700000000000;
  m.json = std::move(json);
  return m;
}

void requireValidJson(const std::string& json) {
  INFO(json);
  auto check = util::validateJson(json);
  INFO(check.error << " at " << check.offset);
  REQUIRE(check.ok);
}

} // namespace

TEST_CASE("hello frame", "[transport]") {
  CHECK(helloJson("S1", "news:E-0", 25) ==
        R"({"type":"hello","session":"S1","cursor":"news:E-0","heartbeat":25})");
  CHECK(helloJson("", "a:E-1,b:F-2", 30) ==
        R"({"type":"hello","cursor":"a:E-1,b:F-2","heartbeat":30})");
  requireValidJson(helloJson("S\"1", "c", 1));
}

TEST_CASE("message frame splices the message fields between type and cursor", "[transport]") {
  const auto m = message(
      R"({"channel":"news","id":"E-7","event":"message","data":{"a":[1,2]},"time":1700000000000})");
  CHECK(messageFrameJson(m, "news:E-7") ==
        R"({"type":"message","channel":"news","id":"E-7","event":"message","data":{"a":[1,2]},)"
        R"("time":1700000000000,"cursor":"news:E-7"})");
  requireValidJson(messageFrameJson(m, "news:E-7"));
}

TEST_CASE("message frame keeps pretty-printed data as published", "[transport]") {
  const auto m = message("{\"channel\":\"news\",\"data\":{\n  \"a\": 1\r\n},\"time\":1}");
  const std::string frame = messageFrameJson(m, "news:E-7");
  CHECK(frame ==
        "{\"type\":\"message\",\"channel\":\"news\",\"data\":{\n  \"a\": 1\r\n},\"time\":1,"
        "\"cursor\":\"news:E-7\"}");
  requireValidJson(frame);
}

TEST_CASE("heartbeat, closed, deleted and reconnect frames", "[transport]") {
  CHECK(heartbeatJson(1700000000123) == R"({"type":"heartbeat","time":1700000000123})");
  CHECK(closedJson("session closed") == R"({"type":"closed","reason":"session closed"})");
  CHECK(deletedJson("news") == R"({"type":"deleted","channel":"news"})");
  CHECK(reconnectJson("news:E-7", "max_stream_age") ==
        R"({"type":"reconnect","cursor":"news:E-7","reason":"max_stream_age"})");
  CHECK(closedJson("a\"</b\n") == R"({"type":"closed","reason":"a\"<\/b\n"})");
}

TEST_CASE("gap frame and gap object", "[transport]") {
  hub::Gap gap{"news", "OLD-5", "E-9", "evicted"};
  CHECK(gapJson(gap) ==
        R"({"type":"gap","channel":"news","requested":"OLD-5","first_available":"E-9",)"
        R"("reason":"evicted"})");
  std::string out = "[";
  appendGapObject(out, gap);
  out += "]";
  CHECK(out ==
        R"([{"channel":"news","requested":"OLD-5","first_available":"E-9","reason":"evicted"}])");

  hub::Gap empty{"news", "X-3", "", "unknown"};
  CHECK(gapJson(empty) ==
        R"({"type":"gap","channel":"news","requested":"X-3","first_available":null,)"
        R"("reason":"unknown"})");
  requireValidJson(gapJson(empty));
}
