// Subscribing on the data socket, one-shot transports (poll, longpoll, jsonp): immediate and
// held answers, backlogs, gaps, timeouts, clients that went away and the 400 codes.
#include <catch2/catch.hpp>

#include <string>

#include "support/app_fixture.h"
#include "support/streams.h"

using namespace holdfast;
using support::AppFixture;
using support::FakeRequest;
using support::member;
using support::parseJson;
using support::sseEvents;
using support::str;

namespace {

void publishN(AppFixture& fx, const std::string& channel, int n) {
  for (int i = 1; i <= n; ++i)
    REQUIRE(fx.publish(channel, "{\"n\":" + std::to_string(i) + "}").status() / 100 == 2);
}

} // namespace

TEST_CASE("poll answers at once with no messages and the channel's cursor", "[app][subscribe]") {
  AppFixture fx;
  FakeRequest& r = fx.get("/push/sub/a?transport=poll");
  REQUIRE(r.finished);
  CHECK(r.status() == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Cache-Control") == "no-store");
  CHECK(r.header("X-Accel-Buffering") == "no");
  CHECK_FALSE(r.hasHeader("X-Holdfast-Session"));
  auto doc = r.bodyJson();
  REQUIRE(doc.IsObject());
  CHECK(doc["messages"].Size() == 0);
  CHECK(member(doc, "cursor") == "a:" + fx.epoch("a") + "-0");
  CHECK_FALSE(doc.HasMember("heartbeat"));
  CHECK_FALSE(r.held);
}

TEST_CASE("poll with since=oldest, last=N or a cursor returns the backlog", "[app][subscribe]") {
  AppFixture fx;
  publishN(fx, "a", 3);
  std::string e = fx.epoch("a");

  auto all = fx.get("/push/sub/a?transport=poll&since=oldest").bodyJson();
  REQUIRE(all["messages"].Size() == 3);
  CHECK(member(all["messages"][0], "id") == e + "-1");
  CHECK(member(all["messages"][0], "channel") == "a");
  CHECK(member(all["messages"][0], "event") == "message");
  CHECK(str(all["messages"][0]["data"]) == "{\"n\":1}");
  CHECK(all["messages"][0]["time"].GetInt64() == fx.clock.wallMs());
  CHECK(member(all, "cursor") == "a:" + e + "-3");

  auto last = fx.get("/push/sub/a?transport=poll&last=2").bodyJson();
  REQUIRE(last["messages"].Size() == 2);
  CHECK(member(last["messages"][0], "id") == e + "-2");

  auto after = fx.get("/push/sub/a?transport=poll&cursor=a:" + e + "-1").bodyJson();
  REQUIRE(after["messages"].Size() == 2);
  CHECK(member(after["messages"][0], "id") == e + "-2");
  CHECK(member(after["messages"][1], "id") == e + "-3");
  CHECK(member(after, "cursor") == "a:" + e + "-3");
  CHECK_FALSE(after.HasMember("gap"));

  // The same position from Last-Event-ID and from last_event_id=.
  auto header =
      fx.get("/push/sub/a?transport=poll", support::withLastEventId("a:" + e + "-2")).bodyJson();
  REQUIRE(header["messages"].Size() == 1);
  CHECK(member(header["messages"][0], "id") == e + "-3");
  auto param = fx.get("/push/sub/a?transport=poll&last_event_id=a:" + e + "-2").bodyJson();
  CHECK(param["messages"].Size() == 1);
}

TEST_CASE("a long-poll finding a backlog answers at once", "[app][subscribe]") {
  AppFixture fx;
  publishN(fx, "a", 2);
  std::string e = fx.epoch("a");
  FakeRequest& r = fx.get("/push/sub/a?cursor=a:" + e + "-0");
  REQUIRE(r.finished);
  CHECK(r.status() == 200);
  CHECK(r.bodyJson()["messages"].Size() == 2);
  CHECK(fx.host.timers.empty());
}

TEST_CASE("a backlog over batch_max is cut with more:true and the cursor at the rest",
          "[app][subscribe]") {
  AppFixture fx([](config::Config& c) { c.batch_max = 2; });
  publishN(fx, "a", 5);
  std::string e = fx.epoch("a");
  auto doc = fx.get("/push/sub/a?transport=poll&since=oldest").bodyJson();
  REQUIRE(doc["messages"].Size() == 2);
  CHECK(doc["more"].IsTrue());
  CHECK(member(doc, "cursor") == "a:" + e + "-2");
}

TEST_CASE("a held long-poll is answered by a publish, and the publisher gets 201",
          "[app][subscribe][longpoll]") {
  AppFixture fx;
  FakeRequest& lp = fx.get("/push/sub/a");
  REQUIRE_FALSE(lp.ended());
  CHECK(lp.out.empty());
  REQUIRE(lp.held);
  CHECK(lp.in == nullptr); // shrunk while held
  CHECK(fx.stats.held[static_cast<size_t>(transport::Kind::kLongpoll)] == 1);
  REQUIRE(fx.host.timers.size() == 1);
  CHECK(fx.host.timers[0].deadline_ms == fx.clock.nowMs() + 25'000);
  CHECK(fx.host.timers[0].kind == app::TimerKind::kPollTimeout);

  FakeRequest& pub = fx.publish("a", "{\"text\":\"hi\"}");
  CHECK(pub.status() == 201);
  auto p = pub.bodyJson();
  CHECK(member(p, "channel") == "a");
  CHECK(member(p, "id") == fx.epoch("a") + "-1");
  CHECK(p["subscribers"].GetUint() == 1);

  REQUIRE(lp.finished);
  CHECK(lp.status() == 200);
  CHECK(lp.header("Content-Type") == "application/json");
  auto doc = lp.bodyJson();
  REQUIRE(doc["messages"].Size() == 1);
  CHECK(str(doc["messages"][0]["data"]) == "{\"text\":\"hi\"}");
  CHECK(member(doc, "cursor") == "a:" + fx.epoch("a") + "-1");
  CHECK(fx.stats.delivered == 1);

  fx.release();
  CHECK(fx.stats.held[static_cast<size_t>(transport::Kind::kLongpoll)] == 0);
  // Released: the next publish has no subscriber.
  CHECK(fx.publish("a", "2").status() == 202);
  // The timer left behind is a normal miss.
  CHECK(fx.host.fireTimers(fx.clock.nowMs() + 30'000) == 0);
}

TEST_CASE("a held long-poll times out with a heartbeat body", "[app][subscribe][longpoll]") {
  AppFixture fx;
  FakeRequest& lp = fx.get("/push/sub/a?timeout=5");
  REQUIRE(fx.host.timers.size() == 1);
  CHECK(fx.host.timers[0].deadline_ms == fx.clock.nowMs() + 5'000);
  fx.clock.advance(4'999);
  CHECK(fx.host.fireTimers(fx.clock.nowMs()) == 0);
  CHECK_FALSE(lp.ended());
  fx.clock.advance(1);
  CHECK(fx.host.fireTimers(fx.clock.nowMs()) == 1);
  REQUIRE(lp.finished);
  CHECK(lp.status() == 200);
  auto doc = lp.bodyJson();
  CHECK(doc["messages"].Size() == 0);
  CHECK(doc["heartbeat"].IsTrue());
  CHECK(member(doc, "cursor") == "a:" + fx.epoch("a") + "-0");
}

TEST_CASE("timeout is capped by poll_timeout and timeout=0 answers at once",
          "[app][subscribe][longpoll]") {
  AppFixture fx;
  fx.get("/push/sub/a?timeout=999");
  REQUIRE(fx.host.timers.size() == 1);
  CHECK(fx.host.timers[0].deadline_ms == fx.clock.nowMs() + 25'000);
  FakeRequest& now = fx.get("/push/sub/a?timeout=0");
  REQUIRE(now.finished);
  CHECK(now.status() == 200);
  CHECK(now.bodyJson()["messages"].Size() == 0);
  CHECK(fx.host.timers.size() == 1);
}

TEST_CASE("jsonp wraps the long-poll body in the callback", "[app][subscribe][jsonp]") {
  AppFixture fx;
  FakeRequest& r = fx.get("/push/sub/a?transport=jsonp&callback=app.got_1");
  REQUIRE_FALSE(r.ended());
  fx.publish("a", "{\"x\":\"</script>\"}");
  REQUIRE(r.finished);
  CHECK(r.status() == 200);
  CHECK(r.header("Content-Type") == "application/javascript; charset=utf-8");
  std::string body = r.body();
  REQUIRE_THAT(body, Catch::StartsWith("/**/app.got_1(") && Catch::EndsWith(");"));
  CHECK_THAT(body, !Catch::Contains("</script>"));
  std::string json = body.substr(14, body.size() - 16);
  auto doc = parseJson(json);
  REQUIRE(doc.IsObject());
  REQUIRE(doc["messages"].Size() == 1);
  CHECK(member(doc["messages"][0]["data"], "x") == "</script>");

  // Timeout: the heartbeat body, wrapped the same way.
  FakeRequest& t = fx.get("/push/sub/a?transport=jsonp&callback=cb&timeout=1");
  fx.clock.advance(1'000);
  fx.host.fireTimers(fx.clock.nowMs());
  REQUIRE(t.finished);
  CHECK_THAT(t.body(), Catch::StartsWith("/**/cb({\"messages\":[]") &&
                           Catch::Contains("\"heartbeat\":true") && Catch::EndsWith(");"));
}

TEST_CASE("jsonp without a callback or with a bad one is 400 bad_callback",
          "[app][subscribe][jsonp]") {
  AppFixture fx;
  for (const char* uri :
       {"/push/sub/a?transport=jsonp", "/push/sub/a?transport=jsonp&callback=1x",
        "/push/sub/a?transport=jsonp&callback=a(b)", "/push/sub/a?callback=alert%281%29"}) {
    CAPTURE(uri);
    FakeRequest& r = fx.get(uri);
    CHECK(r.status() == 400);
    CHECK(member(r.bodyJson(), "error") == "bad_callback");
  }
}

TEST_CASE("an unknown epoch in the cursor is answered from the oldest with a gap",
          "[app][subscribe][gap]") {
  AppFixture fx;
  publishN(fx, "a", 2);
  std::string e = fx.epoch("a");
  FakeRequest& r = fx.get("/push/sub/a?cursor=a:OLDEPOCH-7");
  REQUIRE(r.finished);
  auto doc = r.bodyJson();
  REQUIRE(doc["messages"].Size() == 2);
  CHECK(member(doc["messages"][0], "id") == e + "-1");
  REQUIRE(doc.HasMember("gap"));
  REQUIRE(doc["gap"].Size() == 1);
  CHECK(member(doc["gap"][0], "channel") == "a");
  CHECK(member(doc["gap"][0], "requested") == "OLDEPOCH-8"); // the next message asked for
  CHECK(member(doc["gap"][0], "first_available") == e + "-1");
  CHECK(member(doc["gap"][0], "reason") == "epoch");

  // A stream gets the gap as a frame before the backlog.
  FakeRequest& s = fx.get("/push/sub/a?transport=sse&cursor=a:OLDEPOCH-7");
  auto events = sseEvents(s.body());
  REQUIRE(events.size() == 4);
  CHECK(events[1].event == "gap");
  CHECK(member(parseJson(events[1].data), "reason") == "epoch");
  CHECK(events[2].event == "message");
}

TEST_CASE("a gap answers even an empty long-poll at once", "[app][subscribe][gap]") {
  AppFixture fx;
  fx.get("/push/sub/a?transport=poll"); // creates the channel, nothing buffered
  FakeRequest& r = fx.get("/push/sub/a?cursor=a:OTHER-3");
  REQUIRE(r.finished);
  auto doc = r.bodyJson();
  CHECK(doc["messages"].Size() == 0);
  REQUIRE(doc.HasMember("gap"));
  CHECK(doc["gap"][0]["first_available"].IsNull());
}

TEST_CASE("every malformed subscribe parameter has its own 400 code", "[app][subscribe][errors]") {
  AppFixture fx;
  struct Case {
    const char* query;
    const char* code;
  };
  const Case cases[] = {
      {"transport=websocket", "bad_transport"},
      {"callback=9lives", "bad_callback"},
      {"cursor=nocolon", "bad_cursor"},
      {"cursor=a:E-x", "bad_cursor"},
      {"since=newest", "bad_since"},
      {"last=0", "bad_last"},
      {"last=1001", "bad_last"},
      {"last=two", "bad_last"},
      {"timeout=-1", "bad_timeout"},
      {"timeout=1.5", "bad_timeout"},
      {"a=%zz", "bad_query"},
      {"session=short", "bad_session"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.query);
    FakeRequest& r = fx.get(std::string("/push/sub/a?") + c.query);
    CHECK(r.status() == 400);
    auto doc = r.bodyJson();
    CHECK(member(doc, "error") == c.code);
    CHECK_FALSE(member(doc, "message").empty());
    CHECK_FALSE(r.held);
  }
  CHECK(fx.sessions.size() == 0);
  FakeRequest& bad_header = fx.get("/push/sub/a", support::withLastEventId("garbage"));
  CHECK(member(bad_header.bodyJson(), "error") == "bad_cursor");
}

TEST_CASE("an unknown session id is 404 unknown_session", "[app][subscribe][session]") {
  AppFixture fx;
  FakeRequest& r = fx.get("/push/sub/a?session=AAAAAAAAAAAAAAAAAAAAAA");
  CHECK(r.status() == 404);
  CHECK(member(r.bodyJson(), "error") == "unknown_session");
}

TEST_CASE("an invalid request does not issue a session", "[app][subscribe][session]") {
  AppFixture fx;
  CHECK(fx.get("/push/sub/a?session=new&since=bad").status() == 400);
  CHECK(fx.sessions.size() == 0);
}

TEST_CASE("a held long-poll whose client went away is not written to",
          "[app][subscribe][longpoll]") {
  AppFixture fx;
  FakeRequest& lp = fx.get("/push/sub/a");
  REQUIRE(lp.held);
  fx.abort(lp);
  CHECK(fx.stats.dropped_gone == 1);
  fx.publish("a", "1");
  CHECK(lp.out.empty());
  CHECK_FALSE(lp.finished);
  CHECK(fx.host.fireTimers(fx.clock.nowMs() + 60'000) == 0);
  CHECK(lp.out.empty());
  fx.release();
  CHECK_FALSE(lp.held);
  CHECK(fx.publish("a", "2").status() == 202);
}

TEST_CASE("a deleted channel ends held long-polls with 410 and streams with a deleted frame",
          "[app][subscribe][delete]") {
  AppFixture fx;
  FakeRequest& lp = fx.get("/push/sub/a");
  FakeRequest& sse = fx.get("/push/sub/a?transport=sse");
  size_t mark = sse.out.size();
  REQUIRE(fx.control("DELETE", "/push/ctl/channels/a").status() == 200);
  REQUIRE(lp.finished);
  CHECK(lp.status() == 410);
  CHECK(member(lp.bodyJson(), "error") == "channel_deleted");
  REQUIRE(sse.finished);
  auto events = sseEvents(sse.since(mark));
  REQUIRE(events.size() == 1);
  CHECK(events[0].event == "deleted");
  CHECK(member(parseJson(events[0].data), "channel") == "a");
}

TEST_CASE("a multi-channel long-poll answers with the cursor of every channel",
          "[app][subscribe][longpoll]") {
  AppFixture fx;
  FakeRequest& lp = fx.get("/push/sub/a,b");
  std::string ea = fx.epoch("a"), eb = fx.epoch("b");
  fx.publish("b", "1");
  REQUIRE(lp.finished);
  auto doc = lp.bodyJson();
  CHECK(member(doc, "cursor") == "a:" + ea + "-0,b:" + eb + "-1");
  CHECK(member(doc["messages"][0], "channel") == "b");
}

TEST_CASE("held subscribers share one rendering per transport", "[app][subscribe][cache]") {
  AppFixture fx;
  FakeRequest& s1 = fx.get("/push/sub/a?transport=sse");
  FakeRequest& s2 = fx.get("/push/sub/a?transport=sse");
  size_t m1 = s1.out.size(), m2 = s2.out.size();
  CHECK(fx.publish("a", "1").bodyJson()["subscribers"].GetUint() == 2);
  CHECK(s1.since(m1) == s2.since(m2));
  CHECK(fx.frames.hits() == 1);
  CHECK(fx.frames.misses() == 1);
}
