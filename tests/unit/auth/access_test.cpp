// auth::allowControl (publish key) and auth::allowPrivate / subscribe tokens.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "auth/access.h"
#include "auth/tokens.h"

using namespace holdfast;

namespace {

config::Config keyed() {
  config::Config c;
  c.publish_key = "k3y";
  c.token_key = "tk";
  return c;
}

} // namespace

TEST_CASE("allowControl accepts the Bearer key in any scheme case", "[auth]") {
  config::Config c = keyed();
  auth::Denial d;
  CHECK(auth::allowControl(c, "Bearer k3y", d));
  CHECK(auth::allowControl(c, "bearer k3y", d));
  CHECK(auth::allowControl(c, "BeArEr   k3y", d));
}

TEST_CASE("allowControl refuses missing, wrong and malformed credentials", "[auth]") {
  config::Config c = keyed();
  auth::Denial d;
  REQUIRE_FALSE(auth::allowControl(c, "", d));
  CHECK(d.status == 401);
  CHECK(d.code == "unauthorized");
  CHECK(d.extra == "WWW-Authenticate: Bearer realm=\"holdfast\"\r\n");
  for (const char* a : {"Bearer k3", "Bearer k3yy", "Bearer K3Y", "Basic k3y", "Bearerk3y",
                        "Bearer", "k3y", "Bearer k3y "}) {
    CAPTURE(a);
    auth::Denial denial;
    CHECK_FALSE(auth::allowControl(c, a, denial));
    CHECK(denial.status == 403);
    CHECK(denial.code == "forbidden");
  }
}

TEST_CASE("allowControl: trusted sockets need nothing, no key and untrusted refuses all",
          "[auth]") {
  config::Config c;
  auth::Denial d;
  REQUIRE_FALSE(auth::allowControl(c, "Bearer ", d));
  CHECK(d.status == 403);
  CHECK_FALSE(auth::allowControl(c, "", d));
  c.trusted_control = true;
  CHECK(auth::allowControl(c, "", d));
  CHECK(auth::allowControl(c, "Bearer anything", d));
}

TEST_CASE("allowPrivate checks one token per private channel", "[auth][tokens]") {
  config::Config c = keyed();
  const int64_t now = 1'700'000'000;
  std::string tx = auth::makeSubscribeToken("tk", "private.x", now + 60);
  std::string ty = auth::makeSubscribeToken("tk", "private.y", now + 60);
  auth::Denial d;
  CHECK(auth::allowPrivate(c, {"public", "other"}, nullptr, now, d));

  REQUIRE_FALSE(auth::allowPrivate(c, {"public", "private.x"}, nullptr, now, d));
  CHECK(d.status == 403);
  CHECK(d.code == "token_required");
  CHECK_THAT(d.message, Catch::Contains("private.x"));

  CHECK(auth::allowPrivate(c, {"private.x"}, &tx, now, d));
  std::string both = tx + "," + ty;
  CHECK(auth::allowPrivate(c, {"private.x", "private.y"}, &both, now, d));
  REQUIRE_FALSE(auth::allowPrivate(c, {"private.x", "private.y"}, &tx, now, d));
  CHECK(d.code == "bad_token");

  // Expiry is inclusive: valid through its second.
  CHECK(auth::allowPrivate(c, {"private.x"}, &tx, now + 60, d));
  REQUIRE_FALSE(auth::allowPrivate(c, {"private.x"}, &tx, now + 61, d));
  CHECK_THAT(d.message, Catch::Contains("expired"));

  c.private_prefix.clear();
  CHECK(auth::allowPrivate(c, {"private.x"}, nullptr, now, d));
}

TEST_CASE("subscribe tokens are bound to channel, expiry and key", "[auth][tokens]") {
  const int64_t now = 1'000;
  std::string t = auth::makeSubscribeToken("key", "ch", 2'000);
  CHECK_THAT(t, Catch::StartsWith("2000."));
  std::string why;
  CHECK(auth::verifySubscribeToken("key", t, "ch", now, why));
  CHECK_FALSE(auth::verifySubscribeToken("key", t, "ch2", now, why));
  CHECK_THAT(why, Catch::Contains("signature"));
  CHECK_FALSE(auth::verifySubscribeToken("other", t, "ch", now, why));
  // Changing the expiry invalidates the signature.
  std::string later = "3000" + t.substr(4);
  CHECK_FALSE(auth::verifySubscribeToken("key", later, "ch", now, why));
  CHECK_FALSE(auth::verifySubscribeToken("key", "nodot", "ch", now, why));
  CHECK_THAT(why, Catch::Contains("malformed"));
  CHECK_FALSE(auth::verifySubscribeToken("key", "x1.sig", "ch", now, why));
  CHECK_FALSE(auth::verifySubscribeToken("key", "", "ch", now, why));
  CHECK_FALSE(auth::verifySubscribeToken("", t, "ch", now, why));
  CHECK_THAT(why, Catch::Contains("token_key"));
  // One of several comma-separated tokens may match.
  CHECK(auth::verifySubscribeToken("key", "bad.sig," + t, "ch", now, why));
}

TEST_CASE("isPrivate uses the configured prefix", "[auth]") {
  config::Config c;
  CHECK(auth::isPrivate(c, "private.a"));
  CHECK_FALSE(auth::isPrivate(c, "public.private.a"));
  c.private_prefix = "p-";
  CHECK(auth::isPrivate(c, "p-x"));
  CHECK_FALSE(auth::isPrivate(c, "private.a"));
}
