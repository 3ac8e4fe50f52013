// One-shot bodies for longpoll / poll / jsonp: exact bytes and escaping.
#include <catch2/catch.hpp>

#include "support/json.h"

#include <memory>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "transport/transport.h"
#include "util/json.h"

using namespace holdfast;
using namespace holdfast::transport;

namespace {

hub::MessagePtr message(uint64_t seq, std::string data_json) {
  auto m = std::make_shared<hub::Message>();
  m->channel = "news";
  m->epoch = "E";
  m->seq = seq;
  m->event = "message";
  m->time_ms = 1000 + static_cast<int64_t>(seq);
  m->json = "{\"channel\":\"news\",\"id\":\"E-" + std::to_string(seq) +
            "\",\"event\":\"message\",\"data\":" + data_json +
            ",\"time\":" + std::to_string(m->time_ms) + "}";
  return m;
}

Context context(Kind kind, std::string callback = {}) {
  Context ctx;
  ctx.kind = kind;
  ctx.callback = std::move(callback);
  return ctx;
}

rapidjson::Document parse(std::string_view json) {
  return support::parseJson(json);
}

} // namespace

TEST_CASE("poll body with no messages", "[transport]") {
  std::vector<hub::MessagePtr> none;
  PollBody body;
  body.messages = &none;
  body.cursor = "news:E-0";
  CHECK(renderPollBody(context(Kind::kLongpoll), body) == R"({"messages":[],"cursor":"news:E-0"})");
  body.messages = nullptr; // treated as no messages
  body.heartbeat = true;
  CHECK(renderPollBody(context(Kind::kPoll), body) ==
        R"({"messages":[],"cursor":"news:E-0","heartbeat":true})");
}

TEST_CASE("poll body with messages and every optional field", "[transport]") {
  std::vector<hub::MessagePtr> messages{message(8, "{\"a\":1}"), message(9, "\"text\"")};
  std::vector<hub::Gap> gaps{{"news", "OLD-3", "E-8", "epoch"}, {"x", "E-1", "", "unknown"}};
  PollBody body;
  body.messages = &messages;
  body.cursor = "news:E-9,x:F-0";
  body.gaps = &gaps;
  body.session = "S1";
  body.heartbeat = true;
  body.more = true;
  body.reconnect = true;
  body.closed = "session closed";
  const std::string json = renderPollBody(context(Kind::kLongpoll), body);
  CHECK(
      json ==
      R"({"messages":[)"
      R"({"channel":"news","id":"E-8","event":"message","data":{"a":1},"time":1008},)"
      R"({"channel":"news","id":"E-9","event":"message","data":"text","time":1009}],)"
      R"("cursor":"news:E-9,x:F-0",)"
      R"("gap":[{"channel":"news","requested":"OLD-3","first_available":"E-8","reason":"epoch"},)"
      R"({"channel":"x","requested":"E-1","first_available":null,"reason":"unknown"}],)"
      R"("session":"S1","heartbeat":true,"more":true,"reconnect":true,"closed":"session closed"})");
  CHECK(parse(json)["messages"].Size() == 2);
}

TEST_CASE("poll body omits an empty gap list", "[transport]") {
  std::vector<hub::Gap> gaps;
  PollBody body;
  body.cursor = "c";
  body.gaps = &gaps;
  CHECK(renderPollBody(context(Kind::kPoll), body) == R"({"messages":[],"cursor":"c"})");
}

TEST_CASE("jsonp wraps the body in /**/callback(...);", "[transport]") {
  PollBody body;
  body.cursor = "news:E-0";
  CHECK(renderPollBody(context(Kind::kJsonp, "cb"), body) ==
        R"(/**/cb({"messages":[],"cursor":"news:E-0"});)");
  CHECK(renderPollBody(context(Kind::kJsonp, "a.b_$"), body) ==
        R"(/**/a.b_$({"messages":[],"cursor":"news:E-0"});)");
}

TEST_CASE("jsonp body cannot be broken out of by message data", "[transport]") {
  const std::string evil = "</script><script>alert(1)</script>";
  const std::string data =
      "{\"t\":\"" + evil + "\",\r\n\"c\":\"<!--\",\"u\":\"\xE2\x80\xA8\xE2\x80\xA9\"}";
  std::vector<hub::MessagePtr> messages{message(1, data)};
  PollBody body;
  body.messages = &messages;
  body.cursor = "news:E-1";
  const std::string plain = renderPollBody(context(Kind::kLongpoll), body);
  const std::string js = renderPollBody(context(Kind::kJsonp, "cb"), body);

  REQUIRE(js.rfind("/**/cb(", 0) == 0);
  REQUIRE(js.size() > 9);
  REQUIRE(js.substr(js.size() - 2) == ");");
  const std::string arg = js.substr(7, js.size() - 9);
  CHECK(arg.find_first_of("<>&\r\n") == std::string::npos);
  CHECK(arg.find("\xE2\x80\xA8") == std::string::npos);
  CHECK(arg.find("\xE2\x80\xA9") == std::string::npos);
  const auto doc = parse(arg);
  CHECK(doc == parse(plain));
  CHECK(doc["messages"][0]["data"]["t"].GetString() == evil);
  CHECK(std::string(doc["messages"][0]["data"]["u"].GetString()) == "\xE2\x80\xA8\xE2\x80\xA9");
}
