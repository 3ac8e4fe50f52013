// CORS headers: present for an allowed origin on every answer (immediate, error, held and
// streamed), absent for any other origin.
#include <catch2/catch.hpp>

#include <string>

#include "support/app_fixture.h"

using namespace holdfast;
using support::AppFixture;
using support::FakeRequest;
using support::kOrigin;
using support::withOrigin;

namespace {

void checkCors(const FakeRequest& r) {
  CHECK(r.header("Access-Control-Allow-Origin") == kOrigin);
  CHECK(r.header("Access-Control-Allow-Credentials") == "true");
  CHECK(r.header("Access-Control-Expose-Headers") == "X-Holdfast-Session");
  CHECK(r.header("Vary") == "Origin");
}

void checkNoCors(const FakeRequest& r) {
  CHECK_FALSE(r.hasHeader("Access-Control-Allow-Origin"));
  CHECK_FALSE(r.hasHeader("Access-Control-Allow-Credentials"));
  CHECK_FALSE(r.hasHeader("Access-Control-Expose-Headers"));
  CHECK_FALSE(r.hasHeader("Vary"));
}

} // namespace

TEST_CASE("an allowed origin gets CORS headers on immediate answers and errors", "[app][cors]") {
  AppFixture fx;
  FakeRequest& poll = fx.get("/push/sub/a?transport=poll", withOrigin(kOrigin));
  CHECK(poll.status() == 200);
  checkCors(poll);
  FakeRequest& bad = fx.get("/push/sub/a?transport=nope", withOrigin(kOrigin));
  CHECK(bad.status() == 400);
  checkCors(bad);

  support::RequestSpec spec;
  spec.method = "POST";
  spec.uri = "/push/ctl/pub/room.1";
  spec.body = "1";
  spec.authorization = std::string();
  spec.origin = kOrigin;
  FakeRequest& pub = fx.send(app::Socket::kControl, spec);
  CHECK(pub.status() == 202);
  checkCors(pub);
}

TEST_CASE("other origins get no CORS headers", "[app][cors]") {
  AppFixture fx;
  checkNoCors(fx.get("/push/sub/a?transport=poll", withOrigin("https://evil.example")));
  checkNoCors(fx.get("/push/sub/a?transport=poll"));
  FakeRequest& lp = fx.get("/push/sub/a", withOrigin("https://app.example.evil"));
  fx.publish("a", "1");
  REQUIRE(lp.finished);
  checkNoCors(lp);
}

TEST_CASE("late answers of held requests carry CORS headers", "[app][cors]") {
  AppFixture fx;
  FakeRequest& delivered = fx.get("/push/sub/a", withOrigin(kOrigin));
  FakeRequest& timed_out = fx.get("/push/sub/b?timeout=1", withOrigin(kOrigin));
  FakeRequest& superseded = fx.get("/push/sub/c?session=new", withOrigin(kOrigin));
  REQUIRE(delivered.in == nullptr); // the held request's input was freed; origin was kept
  std::string id = fx.sessions.size() == 1 ? superseded.held->session() : "";
  FakeRequest& stream = fx.get("/push/sub/a?transport=sse", withOrigin(kOrigin));

  fx.publish("a", "1");
  fx.clock.advance(1'000);
  fx.host.fireTimers(fx.clock.nowMs());
  fx.get("/push/sub/c?session=" + id);
  for (FakeRequest* r : {&delivered, &timed_out, &superseded}) {
    REQUIRE(r->finished);
    checkCors(*r);
  }
  CHECK(delivered.status() == 200);
  CHECK(timed_out.status() == 200);
  CHECK(superseded.status() == 409);
  CHECK(stream.status() == 200);
  checkCors(stream);
}

TEST_CASE("allowed_origins \"*\" allows any origin, echoing it", "[app][cors]") {
  AppFixture fx([](config::Config& c) { c.allowed_origins = {"*"}; });
  FakeRequest& r = fx.get("/push/sub/a?transport=poll", withOrigin("https://any.example"));
  CHECK(r.header("Access-Control-Allow-Origin") == "https://any.example");
  checkNoCors(fx.get("/push/sub/a?transport=poll"));
}

TEST_CASE("long-poll answers of one fan-out share bytes only with the same CORS origin",
          "[app][cors][cache]") {
  AppFixture fx([](config::Config& c) { c.allowed_origins = {"*"}; });
  FakeRequest& a1 = fx.get("/push/sub/a", withOrigin("https://one.example"));
  FakeRequest& a2 = fx.get("/push/sub/a", withOrigin("https://one.example"));
  FakeRequest& b = fx.get("/push/sub/a", withOrigin("https://two.example"));
  FakeRequest& none = fx.get("/push/sub/a");
  fx.publish("a", "1");
  REQUIRE((a1.finished && a2.finished && b.finished && none.finished));
  CHECK(a1.out == a2.out);
  CHECK(a1.header("Access-Control-Allow-Origin") == "https://one.example");
  CHECK(b.header("Access-Control-Allow-Origin") == "https://two.example");
  checkNoCors(none);
  CHECK(fx.frames.hits() == 1);
  CHECK(fx.frames.misses() == 3);
}
