// Private channels need a signed subscribe token, on subscribe and on session subscribe.
#include <catch2/catch.hpp>

#include <string>

#include "auth/tokens.h"
#include "support/app_fixture.h"

using namespace holdfast;
using support::AppFixture;
using support::FakeRequest;
using support::member;

namespace {

int64_t nowS(const AppFixture& fx) {
  return fx.clock.wallMs() / 1000;
}

std::string token(const AppFixture& fx, const std::string& channel, int64_t ttl_s) {
  return auth::makeSubscribeToken(support::kTokenKey, channel, nowS(fx) + ttl_s);
}

} // namespace

TEST_CASE("subscribing to a private channel needs a valid, unexpired token", "[app][auth]") {
  AppFixture fx;
  const std::string uri = "/push/sub/private.x?transport=poll";

  FakeRequest& none = fx.get(uri);
  CHECK(none.status() == 403);
  CHECK(member(none.bodyJson(), "error") == "token_required");

  FakeRequest& bad = fx.get(uri + "&token=123.abc");
  CHECK(bad.status() == 403);
  CHECK(member(bad.bodyJson(), "error") == "bad_token");
  CHECK(fx.get(uri + "&token=garbage").status() == 403);
  // A token for another channel does not open this one.
  CHECK(fx.get(uri + "&token=" + token(fx, "private.y", 60)).status() == 403);

  FakeRequest& ok = fx.get(uri + "&token=" + token(fx, "private.x", 60));
  CHECK(ok.status() == 200);

  std::string soon = token(fx, "private.x", 10);
  fx.clock.advance(11'000);
  FakeRequest& expired = fx.get(uri + "&token=" + soon);
  CHECK(expired.status() == 403);
  CHECK(member(expired.bodyJson(), "error") == "bad_token");
  CHECK_THAT(member(expired.bodyJson(), "message"), Catch::Contains("expired"));

  // Public channels next to private ones need nothing; each private one its own token.
  std::string both =
      "/push/sub/pub,private.x,private.y?transport=poll&token=" + token(fx, "private.x", 60);
  CHECK(fx.get(both).status() == 403);
  CHECK(fx.get(both + "," + token(fx, "private.y", 60)).status() == 200);
  CHECK(fx.get("/push/sub/pub?transport=poll").status() == 200);
}

TEST_CASE("session subscribe to a private channel needs a token too", "[app][auth][session]") {
  AppFixture fx;
  FakeRequest& sse = fx.get("/push/sub/a?transport=sse&session=new");
  std::string id = *sse.header("X-Holdfast-Session");
  std::string route = "/push/ctl/session/" + id + "/subscribe?channel=private.x";

  FakeRequest& none = fx.control("POST", route);
  CHECK(none.status() == 403);
  CHECK(member(none.bodyJson(), "error") == "token_required");
  FakeRequest& bad = fx.control("POST", route + "&token=1.x");
  CHECK(bad.status() == 403);
  CHECK(member(bad.bodyJson(), "error") == "bad_token");
  std::string soon = token(fx, "private.x", 5);
  fx.clock.advance(6'000);
  CHECK(fx.control("POST", route + "&token=" + soon).status() == 403);
  CHECK(fx.sessions.find(id)->cursor.size() == 0);

  FakeRequest& ok = fx.control("POST", route + "&token=" + token(fx, "private.x", 60));
  CHECK(ok.status() == 200);
  size_t mark = sse.out.size();
  CHECK(fx.publish("private.x", "1").status() == 201);
  CHECK_THAT(sse.since(mark), Catch::Contains("\"channel\":\"private.x\""));
}

TEST_CASE("without a token_key private channels are closed", "[app][auth]") {
  AppFixture fx([](config::Config& c) { c.token_key.clear(); });
  FakeRequest& r = fx.get("/push/sub/private.x?transport=poll&token=" +
                          auth::makeSubscribeToken("", "private.x", nowS(fx) + 60));
  CHECK(r.status() == 403);
  CHECK(member(r.bodyJson(), "error") == "bad_token");
}
