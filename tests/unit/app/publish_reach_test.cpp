// 201 vs 202 counts only subscribers that took the message (Subscriber::deliver returns it).
#include <catch2/catch.hpp>

#include "support/app_fixture.h"

using namespace holdfast;
using support::AppFixture;
using support::FakeRequest;

// DESIGN §5: 201 only "if delivered to >= 1 live subscriber": a held request answered (or whose
// client went away) earlier in the same loop pass is still subscribed until its release, but
// does not count.
TEST_CASE("a publish after the only long-poll was answered in the same pass is 202", "[app]") {
  AppFixture fx;
  FakeRequest& lp = fx.get("/push/sub/a");
  CHECK(fx.publish("a", "1").status() == 201);
  REQUIRE(lp.finished);
  FakeRequest& second = fx.publish("a", "2"); // before the deferred release
  CHECK(second.bodyJson()["subscribers"].GetUint() == 0);
  CHECK(second.status() == 202);
}

TEST_CASE("a publish to a channel whose only subscriber went away is 202", "[app]") {
  AppFixture fx;
  FakeRequest& lp = fx.get("/push/sub/a");
  fx.abort(lp);
  CHECK(fx.publish("a", "1").status() == 202);
}
