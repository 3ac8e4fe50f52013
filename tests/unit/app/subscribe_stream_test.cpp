// Subscribing on the data socket, streaming transports (sse, ndjson, iframe, multipart):
// headers, preamble, backlog and live frames, heartbeats, max_stream_age and shutdown.
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

TEST_CASE("sse sends retry and hello with the headers, then message frames",
          "[app][subscribe][sse]") {
  AppFixture fx;
  FakeRequest& r = fx.get("/push/sub/a", support::withAccept("text/event-stream"));
  REQUIRE_FALSE(r.ended());
  REQUIRE(r.writes == 1); // headers and preamble in one write
  CHECK(r.status() == 200);
  CHECK(r.header("Content-Type") == "text/event-stream");
  CHECK(r.header("X-Accel-Buffering") == "no");
  std::string e = fx.epoch("a");
  CHECK_THAT(r.body(), Catch::StartsWith("retry: 2000\n"));
  auto events = sseEvents(r.body());
  REQUIRE(events.size() == 1);
  CHECK(events[0].event == "hello");
  CHECK(events[0].id == "a:" + e + "-0");
  auto hello = parseJson(events[0].data);
  CHECK(member(hello, "type") == "hello");
  CHECK(member(hello, "cursor") == "a:" + e + "-0");
  CHECK(hello["heartbeat"].GetInt() == 25);
  CHECK_FALSE(hello.HasMember("session"));
  CHECK(fx.stats.held[static_cast<size_t>(transport::Kind::kSse)] == 1);

  size_t mark = r.out.size();
  CHECK(fx.publish("a", "{\"n\":1}", "?event=chat").status() == 201);
  CHECK(fx.publish("a", "plain", "", "text/plain").status() == 201);
  auto frames = sseEvents(r.since(mark));
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].event == "chat");
  CHECK(frames[0].id == "a:" + e + "-1");
  auto m = parseJson(frames[0].data);
  CHECK(member(m, "type") == "message");
  CHECK(member(m, "channel") == "a");
  CHECK(member(m, "id") == e + "-1");
  CHECK(member(m, "event") == "chat");
  CHECK(str(m["data"]) == "{\"n\":1}");
  CHECK(member(m, "cursor") == "a:" + e + "-1");
  CHECK(frames[1].event == "message");
  CHECK(frames[1].id == "a:" + e + "-2");
  CHECK(member(parseJson(frames[1].data), "data") == "plain");
  CHECK_FALSE(r.ended());
}

TEST_CASE("a stream resumes with the backlog after its cursor, each frame with its cursor",
          "[app][subscribe][sse]") {
  AppFixture fx;
  publishN(fx, "a", 3);
  std::string e = fx.epoch("a");
  FakeRequest& r = fx.get("/push/sub/a?transport=sse", support::withLastEventId("a:" + e + "-1"));
  REQUIRE(r.writes == 1);
  auto events = sseEvents(r.body());
  REQUIRE(events.size() == 3);
  CHECK(events[0].event == "hello");
  CHECK(events[1].event == "message");
  CHECK(events[1].id == "a:" + e + "-2");
  CHECK(events[2].id == "a:" + e + "-3");
  CHECK(member(parseJson(events[2].data), "id") == e + "-3");
  CHECK(fx.stats.delivered == 2);
  // Live frames continue after the backlog.
  size_t mark = r.out.size();
  fx.publish("a", "4");
  auto live = sseEvents(r.since(mark));
  REQUIRE(live.size() == 1);
  CHECK(live[0].id == "a:" + e + "-4");
}

TEST_CASE("a stream catches up on a backlog longer than batch_max before going live",
          "[app][subscribe][sse]") {
  AppFixture fx([](config::Config& c) { c.batch_max = 2; });
  publishN(fx, "a", 5);
  std::string e = fx.epoch("a");
  FakeRequest& r = fx.get("/push/sub/a?transport=ndjson&since=oldest");
  auto ls = support::lines(r.body());
  REQUIRE(ls.size() == 6);
  CHECK(member(parseJson(ls[0]), "type") == "hello");
  for (int i = 1; i <= 5; ++i)
    CHECK(member(parseJson(ls[static_cast<size_t>(i)]), "id") == e + "-" + std::to_string(i));
  CHECK(member(parseJson(ls[5]), "cursor") == "a:" + e + "-5");
}

TEST_CASE("ndjson streams one frame a line", "[app][subscribe][ndjson]") {
  AppFixture fx;
  FakeRequest& r = fx.get("/push/sub/a?transport=ndjson");
  CHECK(r.header("Content-Type") == "application/x-ndjson");
  auto hello = support::lines(r.body());
  REQUIRE(hello.size() == 1);
  CHECK(member(parseJson(hello[0]), "type") == "hello");
  size_t mark = r.out.size();
  fx.publish("a", "{\n  \"pretty\": true\n}");
  auto ls = support::lines(r.since(mark));
  REQUIRE(ls.size() == 1);
  auto m = parseJson(ls[0]);
  REQUIRE(m.IsObject());
  CHECK(member(m, "type") == "message");
  CHECK(m["data"]["pretty"].IsTrue());
}

TEST_CASE("iframe pads 2 KiB before the first script and calls the callback per frame",
          "[app][subscribe][iframe]") {
  AppFixture fx;
  FakeRequest& r = fx.get("/push/sub/a?transport=iframe");
  CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
  std::string body = r.body();
  CHECK_THAT(body, Catch::StartsWith("<!DOCTYPE html>"));
  size_t script = body.find("<script>");
  REQUIRE(script != std::string::npos);
  CHECK(script >= 2048);
  CHECK(body.compare(script, 31, "<script>parent.holdfast({\"type\"") == 0);
  size_t mark = r.out.size();
  fx.publish("a", "\"</script><!--\"");
  std::string frame = r.since(mark);
  CHECK_THAT(frame,
             Catch::StartsWith("<script>parent.holdfast(") && Catch::EndsWith(");</script>\n"));
  CHECK(frame.find("</script>") == frame.size() - 10);
  CHECK_THAT(frame, !Catch::Contains("<!--"));

  FakeRequest& named = fx.get("/push/sub/a?transport=iframe&callback=hf.cb");
  CHECK_THAT(named.body(), Catch::Contains("<script>parent.hf.cb({"));
}

TEST_CASE("multipart writes one JSON part per frame with a random boundary",
          "[app][subscribe][multipart]") {
  AppFixture fx;
  FakeRequest& r = fx.get("/push/sub/a", support::withAccept("multipart/mixed"));
  std::string ct = *r.header("Content-Type");
  REQUIRE_THAT(ct, Catch::StartsWith("multipart/x-mixed-replace; boundary=holdfast-"));
  std::string boundary = ct.substr(ct.find('=') + 1);
  std::string body = r.body();
  std::string head = "--" + boundary + "\r\nContent-Type: application/json\r\n\r\n";
  REQUIRE_THAT(body, Catch::StartsWith(head) && Catch::EndsWith("\r\n--" + boundary));
  auto hello = parseJson(body.substr(head.size(), body.size() - head.size() - boundary.size() - 4));
  CHECK(member(hello, "type") == "hello");

  size_t mark = r.out.size();
  fx.publish("a", "{\"n\":1}");
  std::string part = r.since(mark);
  std::string part_head = "\r\nContent-Type: application/json\r\n\r\n";
  REQUIRE_THAT(part, Catch::StartsWith(part_head) && Catch::EndsWith("\r\n--" + boundary));
  auto m = parseJson(
      part.substr(part_head.size(), part.size() - part_head.size() - boundary.size() - 4));
  CHECK(member(m, "type") == "message");

  FakeRequest& other = fx.get("/push/sub/a?transport=multipart");
  CHECK(*other.header("Content-Type") != ct);
}

TEST_CASE("streams send heartbeat frames and end with reconnect at max_stream_age",
          "[app][subscribe][timers]") {
  AppFixture fx([](config::Config& c) {
    c.heartbeat = 10;
    c.max_stream_age = 25;
  });
  FakeRequest& r = fx.get("/push/sub/a?transport=sse");
  std::string e = fx.epoch("a");
  REQUIRE(fx.host.timers.size() == 1);
  CHECK(fx.host.timers[0].kind == app::TimerKind::kStream);
  CHECK(fx.host.timers[0].deadline_ms == fx.clock.nowMs() + 10'000);

  size_t mark = r.out.size();
  fx.clock.advance(10'000);
  CHECK(fx.host.fireTimers(fx.clock.nowMs()) == 1);
  auto beat = sseEvents(r.since(mark));
  REQUIRE(beat.size() == 1);
  CHECK(beat[0].event == "heartbeat");
  CHECK(beat[0].id.empty());
  CHECK(parseJson(beat[0].data)["time"].GetInt64() == fx.clock.wallMs());
  REQUIRE(fx.host.timers.size() == 1);
  CHECK(fx.host.timers[0].deadline_ms == fx.clock.nowMs() + 10'000);

  fx.clock.advance(10'000);
  fx.host.fireTimers(fx.clock.nowMs());
  // The last timer is capped at max_stream_age, not the next heartbeat.
  REQUIRE(fx.host.timers.size() == 1);
  CHECK(fx.host.timers[0].deadline_ms == fx.clock.nowMs() + 5'000);
  mark = r.out.size();
  fx.clock.advance(5'000);
  fx.host.fireTimers(fx.clock.nowMs());
  REQUIRE(r.finished);
  auto end = sseEvents(r.since(mark));
  REQUIRE(end.size() == 1);
  CHECK(end[0].event == "reconnect");
  CHECK(end[0].id == "a:" + e + "-0");
  auto rc = parseJson(end[0].data);
  CHECK(member(rc, "reason") == "max_stream_age");
  CHECK(member(rc, "cursor") == "a:" + e + "-0");
  CHECK(fx.host.timers.empty());
}

TEST_CASE("a multipart stream ends with the closing delimiter", "[app][subscribe][timers]") {
  AppFixture fx([](config::Config& c) { c.max_stream_age = 1; });
  FakeRequest& r = fx.get("/push/sub/a?transport=multipart");
  fx.clock.advance(1'000);
  fx.host.fireTimers(fx.clock.nowMs());
  REQUIRE(r.finished);
  CHECK_THAT(r.body(), Catch::Contains("\"reconnect\"") && Catch::EndsWith("--\r\n"));
}

TEST_CASE("on shutdown held long-polls answer reconnect and streams send a reconnect frame",
          "[app][subscribe][shutdown]") {
  AppFixture fx;
  FakeRequest& lp = fx.get("/push/sub/a?session=new");
  FakeRequest& sse = fx.get("/push/sub/a?transport=sse");
  std::string e = fx.epoch("a");
  size_t mark = sse.out.size();
  // What server::Server::beginShutdown does for every live held request.
  for (FakeRequest* r : {&lp, &sse}) {
    REQUIRE(r->held);
    r->held->reconnect("shutdown");
  }
  REQUIRE(lp.finished);
  CHECK(lp.status() == 200);
  CHECK(lp.header("Retry-After") == "1");
  auto doc = lp.bodyJson();
  CHECK(doc["reconnect"].IsTrue());
  CHECK(member(doc, "cursor") == "a:" + e + "-0");
  CHECK(member(doc, "session") == lp.held->session());
  REQUIRE(sse.finished);
  auto events = sseEvents(sse.since(mark));
  REQUIRE(events.size() == 1);
  CHECK(events[0].event == "reconnect");
  CHECK(events[0].id == "a:" + e + "-0");
  CHECK(member(parseJson(events[0].data), "reason") == "shutdown");
  // Reconnecting twice writes nothing more.
  size_t total = sse.out.size();
  sse.held->reconnect("shutdown");
  CHECK(sse.out.size() == total);
}
