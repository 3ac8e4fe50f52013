// Publishing on the control socket: validation, 201/202, multi-channel and batch results, the
// all-or-nothing 507, and client_publish channels open to pages.
#include <catch2/catch.hpp>

#include <string>

#include "support/app_fixture.h"

using namespace holdfast;
using support::AppFixture;
using support::FakeRequest;
using support::member;
using support::str;

namespace {

// Everything buffered in `channel`, by a poll with since=oldest.
rapidjson::Document oldest(AppFixture& fx, const std::string& channel) {
  return fx.get("/push/sub/" + channel + "?transport=poll&since=oldest").bodyJson();
}

FakeRequest& batch(AppFixture& fx, const std::string& body) {
  return fx.control("POST", "/push/ctl/pub", body, "application/json");
}

std::string deepArrays(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

} // namespace

TEST_CASE("an invalid JSON body is 400 bad_json with the parse error offset", "[app][publish]") {
  AppFixture fx;
  FakeRequest& r = fx.publish("a", "{\"a\":1,}");
  CHECK(r.status() == 400);
  auto doc = r.bodyJson();
  CHECK(member(doc, "error") == "bad_json");
  CHECK_THAT(member(doc, "message"), Catch::Contains("offset 7"));
  CHECK(fx.publish("a", "").status() == 400);
  CHECK(fx.publish("a", "1 2").status() == 400);
  CHECK(fx.control("POST", "/push/ctl/pub/a", "{", "application/problem+json; charset=utf-8")
            .status() == 400);
  CHECK(oldest(fx, "a")["messages"].Size() == 0);
}

TEST_CASE("a JSON body is stored as published, other bodies as strings", "[app][publish]") {
  AppFixture fx;
  CHECK(fx.publish("a", "{ \"a\" : [1, 2] }").status() == 202);
  CHECK(fx.control("POST", "/push/ctl/pub/a", "{not json", "text/plain").status() == 202);
  CHECK(fx.control("POST", "/push/ctl/pub/a", "x", "").status() == 202);
  FakeRequest& poll = fx.get("/push/sub/a?transport=poll&since=oldest");
  CHECK_THAT(poll.body(), Catch::Contains("\"data\":{ \"a\" : [1, 2] }"));
  auto doc = poll.bodyJson();
  REQUIRE(doc["messages"].Size() == 3);
  CHECK(doc["messages"][1]["data"].IsString());
  CHECK(member(doc["messages"][1], "data") == "{not json");
  CHECK(member(doc["messages"][2], "data") == "x");
}

TEST_CASE("a bad event name is 400 bad_event, a good one is stored", "[app][publish]") {
  AppFixture fx;
  for (const char* q : {"?event=", "?event=a%20b", "?event=%3Cscript%3E"}) {
    CAPTURE(q);
    FakeRequest& r = fx.publish("a", "1", q);
    CHECK(r.status() == 400);
    CHECK(member(r.bodyJson(), "error") == "bad_event");
  }
  CHECK(fx.publish("a", "1", "?event=chat.msg:v1").status() == 202);
  CHECK(member(oldest(fx, "a")["messages"][0], "event") == "chat.msg:v1");
}

TEST_CASE("bad channel lists in the publish path are 400", "[app][publish]") {
  AppFixture fx;
  FakeRequest& r = fx.publish("a%20b", "1");
  CHECK(r.status() == 400);
  CHECK(member(r.bodyJson(), "error") == "bad_channel");
  CHECK(fx.publish("", "1").status() == 400);
  CHECK(fx.publish("a,", "1").status() == 400);
}

TEST_CASE("publish answers 201 with live subscribers and 202 without", "[app][publish]") {
  AppFixture fx;
  FakeRequest& buffered = fx.publish("a", "1");
  CHECK(buffered.status() == 202);
  CHECK(buffered.bodyJson()["subscribers"].GetUint() == 0);
  fx.get("/push/sub/a?transport=sse");
  fx.get("/push/sub/a?transport=ndjson");
  FakeRequest& live = fx.publish("a", "2");
  CHECK(live.status() == 201);
  CHECK(live.bodyJson()["subscribers"].GetUint() == 2);
}

TEST_CASE("a multi-channel publish answers one result per channel", "[app][publish]") {
  AppFixture fx;
  fx.get("/push/sub/b?transport=sse");
  FakeRequest& r = fx.publish("a,b", "{\"x\":1}");
  CHECK(r.status() == 201);
  auto doc = r.bodyJson();
  REQUIRE(doc["results"].Size() == 2);
  CHECK(member(doc["results"][0], "channel") == "a");
  CHECK(doc["results"][0]["subscribers"].GetUint() == 0);
  CHECK(member(doc["results"][1], "channel") == "b");
  CHECK(doc["results"][1]["subscribers"].GetUint() == 1);
  CHECK_THAT(member(doc["results"][1], "id"), Catch::EndsWith("-1"));
  CHECK(str(oldest(fx, "a")["messages"][0]["data"]) == "{\"x\":1}");
  CHECK(str(oldest(fx, "b")["messages"][0]["data"]) == "{\"x\":1}");
}

TEST_CASE("a batch publishes every item and answers one result each", "[app][publish][batch]") {
  AppFixture fx;
  FakeRequest& r = batch(fx, R"([{"channel":"a","data":{"k": 1}},
                                 {"channel":"b","event":"e1","data":"s"},
                                 {"channel":"a","data":[1, 2]}])");
  REQUIRE(r.status() == 202);
  auto doc = r.bodyJson();
  REQUIRE(doc["results"].Size() == 3);
  CHECK(member(doc["results"][2], "id") == fx.engine.hub().find("a")->epoch() + "-2");
  auto a = oldest(fx, "a");
  REQUIRE(a["messages"].Size() == 2);
  CHECK(str(a["messages"][0]["data"]) == "{\"k\":1}"); // compact
  CHECK(member(oldest(fx, "b")["messages"][0], "event") == "e1");
}

TEST_CASE("a bad batch is 400 naming the item, and nothing is published", "[app][publish][batch]") {
  AppFixture fx;
  struct Case {
    std::string body;
    std::string code;
    std::string mentions;
  };
  const Case cases[] = {
      {"{\"channel\":\"a\",\"data\":1}", "bad_batch", "array"},
      {"[]", "bad_batch", "non-empty"},
      {"[1]", "bad_batch", "item 0"},
      {R"([{"channel":"a","data":1},{"channel":"b"}])", "bad_batch", "item 1"},
      {R"([{"channel":"a","data":1},{"channel":7,"data":1}])", "bad_batch", "item 1"},
      {R"([{"channel":"a","data":1},{"channel":"b c","data":1}])", "bad_channel", "item 1"},
      {R"([{"channel":"a","data":1},{"channel":"b","event":"no way","data":1}])", "bad_event",
       "item 1"},
      {R"([{"channel":"a","data":1},{"channel":"b","event":3,"data":1}])", "bad_event", "item 1"},
      {R"([{"channel":"a","data":1},)", "bad_json", "offset"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    FakeRequest& r = batch(fx, c.body);
    CHECK(r.status() == 400);
    auto doc = r.bodyJson();
    CHECK(member(doc, "error") == c.code);
    CHECK_THAT(member(doc, "message"), Catch::Contains(c.mentions));
  }
  CHECK(fx.engine.stats().published == 0);
  CHECK(fx.engine.hub().find("a") == nullptr);
}

TEST_CASE("150,000 nested arrays are refused with 400, not a crash", "[app][publish][batch]") {
  AppFixture fx([](config::Config& c) { c.max_body = 1 << 20; });
  std::string deep = deepArrays(150'000);
  FakeRequest& single = fx.publish("a", deep);
  CHECK(single.status() == 400);
  CHECK_THAT(member(single.bodyJson(), "message"),
             Catch::Contains("Nesting deeper than 128 levels"));
  FakeRequest& b = batch(fx, "[{\"channel\":\"a\",\"data\":" + deep + "}]");
  CHECK(b.status() == 400);
  CHECK_THAT(member(b.bodyJson(), "message"), Catch::Contains("Nesting deeper than 128 levels"));
  // 128 levels are fine (the batch array itself is one of them).
  CHECK(fx.publish("a", deepArrays(128)).status() == 202);
  CHECK(batch(fx, "[{\"channel\":\"a\",\"data\":" + deepArrays(126) + "}]").status() == 202);
  CHECK(fx.publish("a", deepArrays(129)).status() == 400);
}

TEST_CASE("invalid UTF-8 and trailing bytes after the JSON are 400", "[app][publish][batch]") {
  AppFixture fx;
  FakeRequest& utf8 = batch(fx, "[{\"channel\":\"a\",\"data\":\"\xff\xfe\"}]");
  CHECK(utf8.status() == 400);
  CHECK(member(utf8.bodyJson(), "error") == "bad_json");
  CHECK(fx.publish("a", "\"\xc3\x28\"").status() == 400);
  std::string nul = std::string("[{\"channel\":\"a\",\"data\":1}]") + '\0' + "garbage";
  FakeRequest& trailing = batch(fx, nul);
  CHECK(trailing.status() == 400);
  CHECK(member(trailing.bodyJson(), "error") == "bad_json");
  CHECK(fx.publish("a", std::string("{}") + '\0' + "x").status() == 400);
  CHECK(fx.engine.stats().published == 0);
}

TEST_CASE("an item over buffer_bytes is refused with 507 and nothing is published",
          "[app][publish][limits]") {
  AppFixture fx([](config::Config& c) { c.buffer_bytes = 2048; });
  std::string big = "\"" + std::string(4096, 'x') + "\"";
  FakeRequest& b =
      batch(fx, "[{\"channel\":\"a\",\"data\":1},{\"channel\":\"b\",\"data\":" + big + "}]");
  CHECK(b.status() == 507);
  auto doc = b.bodyJson();
  CHECK(member(doc, "error") == "too_large");
  CHECK_THAT(member(doc, "message"), Catch::Contains("item 1") && Catch::Contains("nothing"));
  CHECK(oldest(fx, "a")["messages"].Size() == 0);
  CHECK(oldest(fx, "b")["messages"].Size() == 0);

  FakeRequest& multi = fx.publish("a,b", big);
  CHECK(multi.status() == 507);
  CHECK(oldest(fx, "a")["messages"].Size() == 0);

  FakeRequest& single = fx.publish("a", big);
  CHECK(single.status() == 507);
  CHECK(fx.engine.stats().published == 0);
  // The sequence stays free: the next message is -1.
  CHECK_THAT(member(fx.publish("a", "1").bodyJson(), "id"), Catch::EndsWith("-1"));
}

TEST_CASE("pages may publish to client_publish channels without the key", "[app][publish][auth]") {
  AppFixture fx;
  auto noKey = [&](const std::string& channels) -> FakeRequest& {
    return fx.control("POST", "/push/ctl/pub/" + channels, "1", "application/json", std::string());
  };
  CHECK(noKey("room.lobby").status() == 202);
  FakeRequest& closed = noKey("secret");
  CHECK(closed.status() == 401);
  CHECK(closed.hasHeader("WWW-Authenticate"));
  CHECK(noKey("room.lobby,secret").status() == 401);
  CHECK(noKey("room").status() == 401);
  CHECK(fx.control("POST", "/push/ctl/pub/secret", "1", "", std::string("Bearer wrong")).status() ==
        403);
  CHECK(fx.control("POST", "/push/ctl/pub", "[{\"channel\":\"room.a\",\"data\":1}]",
                   "application/json", std::string())
            .status() == 401);
}

TEST_CASE("a trusted control socket needs no key, one without a key refuses",
          "[app][publish][auth]") {
  AppFixture trusted([](config::Config& c) {
    c.publish_key.clear();
    c.trusted_control = true;
  });
  CHECK(trusted.control("POST", "/push/ctl/pub/a", "1", "", std::string()).status() == 202);
  AppFixture closed([](config::Config& c) { c.publish_key.clear(); });
  FakeRequest& r = closed.control("POST", "/push/ctl/pub/a", "1", "", std::string("Bearer "));
  CHECK(r.status() == 403);
  CHECK_THAT(member(r.bodyJson(), "message"), Catch::Contains("publish_key"));
}
