// Capacity caps through the handlers: max_channels (503 too_many_channels on the data and
// control sockets), max_sessions (503 too_many_sessions), their counters in /stats and
// /metrics, and a cursor of a collected idle channel resuming without a gap.
#include <catch2/catch.hpp>

#include <string>

#include "support/app_fixture.h"

using namespace holdfast;
using support::AppFixture;
using support::FakeRequest;
using support::member;

namespace {

AppFixture::Tweak caps(uint64_t channels, uint64_t sessions = 100) {
  return [=](config::Config& c) {
    c.max_channels = channels;
    c.max_sessions = sessions;
    c.channel_idle = 5;
  };
}

void checkTooManyChannels(const FakeRequest& r) {
  CHECK(r.status() == 503);
  CHECK(member(r.bodyJson(), "error") == "too_many_channels");
  CHECK(member(r.bodyJson(), "message").find("max_channels") != std::string::npos);
  CHECK(r.header("Retry-After") == "5");
}

} // namespace

TEST_CASE("a subscribe that would create a channel past max_channels gets 503", "[app][caps]") {
  AppFixture fx(caps(2));
  CHECK(fx.get("/push/sub/a,b?transport=poll").status() == 200);
  FakeRequest& over = fx.get("/push/sub/a,c?transport=poll&session=new");
  checkTooManyChannels(over);
  CHECK(fx.engine.stats().channels == 2);
  CHECK(fx.sessions.size() == 0); // the session it issued was dropped again
  CHECK(fx.stats.refused_channels == 1);
  // Streams are refused the same way; existing channels keep serving every transport.
  checkTooManyChannels(fx.get("/push/sub/c?transport=sse"));
  FakeRequest& held = fx.get("/push/sub/a");
  REQUIRE_FALSE(held.ended());
  fx.publish("a", "1");
  CHECK(held.status() == 200);
  CHECK(fx.stats.refused_channels == 2);
}

TEST_CASE("a publish that would create a channel past max_channels gets 503, nothing stored",
          "[app][caps]") {
  AppFixture fx(caps(2));
  CHECK(fx.publish("a", "1").status() == 202);
  std::string batch = R"([{"channel":"a","data":2},{"channel":"b","data":3},)"
                      R"({"channel":"c","data":4}])";
  checkTooManyChannels(fx.control("POST", "/push/ctl/pub", batch, "application/json"));
  CHECK(fx.engine.stats().published == 1);
  CHECK(fx.engine.hub().find("b") == nullptr);
  checkTooManyChannels(fx.publish("b,c", "5"));
  CHECK(fx.publish("a,b", "6").status() == 202); // one new channel still fits
}

TEST_CASE("a session subscribe past max_channels gets 503 and leaves the session as it was",
          "[app][caps][session]") {
  AppFixture fx(caps(2));
  FakeRequest& poll = fx.get("/push/sub/a?transport=poll&session=new");
  std::string id = *poll.header("X-Holdfast-Session");
  checkTooManyChannels(fx.control("POST", "/push/ctl/session/" + id + "/subscribe?channel=b,c"));
  CHECK(fx.sessions.find(id)->cursor.size() == 1);
  CHECK(fx.control("POST", "/push/ctl/session/" + id + "/subscribe?channel=b").status() == 200);
}

TEST_CASE("session=new past max_sessions gets 503 too_many_sessions", "[app][caps][session]") {
  AppFixture fx(caps(100, 2));
  FakeRequest& first = fx.get("/push/sub/a?transport=poll&session=new");
  std::string id = *first.header("X-Holdfast-Session");
  fx.get("/push/sub/a?transport=poll&session=new");
  FakeRequest& over = fx.get("/push/sub/a?transport=poll&session=new");
  CHECK(over.status() == 503);
  CHECK(member(over.bodyJson(), "error") == "too_many_sessions");
  CHECK(over.header("Retry-After") == std::to_string(fx.config.session_ttl));
  CHECK(fx.sessions.size() == 2);
  CHECK(fx.stats.refused_sessions == 1);
  // Existing sessions and session-less requests keep working.
  CHECK(fx.get("/push/sub/a?transport=poll&session=" + id).status() == 200);
  CHECK(fx.get("/push/sub/a?transport=poll").status() == 200);
}

TEST_CASE("the refusals are counted in /stats and /metrics", "[app][caps][metrics]") {
  AppFixture fx(caps(1, 1));
  fx.get("/push/sub/a?transport=poll&session=new");
  fx.get("/push/sub/a?transport=poll&session=new");
  fx.get("/push/sub/b?transport=poll");
  auto stats = fx.control("GET", "/push/ctl/stats").bodyJson();
  CHECK(member(stats["refused"], "channels") == "1");
  CHECK(member(stats["refused"], "sessions") == "1");
  std::string metrics = fx.control("GET", "/push/ctl/metrics").body();
  CHECK(metrics.find("holdfast_refused_total{cap=\"max_channels\"} 1\n") != std::string::npos);
  CHECK(metrics.find("holdfast_refused_total{cap=\"max_sessions\"} 1\n") != std::string::npos);
}

TEST_CASE("an idle channel is collected after channel_idle and its seq-0 cursor has no gap",
          "[app][caps][resume]") {
  AppFixture fx(caps(1));
  FakeRequest& first = fx.get("/push/sub/a?transport=poll");
  std::string cursor = member(first.bodyJson(), "cursor");
  fx.clock.advance(5001);
  fx.engine.sweep();
  CHECK(fx.engine.stats().channels == 0);
  // The slot is free again, and the old cursor resumes exactly.
  FakeRequest& back = fx.get("/push/sub/a?transport=poll&cursor=" + cursor);
  CHECK(back.status() == 200);
  CHECK(member(back.bodyJson(), "cursor") == cursor);
  CHECK_FALSE(back.bodyJson().HasMember("gap"));
}
