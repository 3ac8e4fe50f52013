// app::route: the checks every request passes and the status code of every route.
#include <catch2/catch.hpp>

#include <string>

#include "support/app_fixture.h"

using namespace holdfast;
using support::AppFixture;
using support::FakeRequest;
using support::RequestSpec;

namespace {

std::string errorCode(const FakeRequest& r) {
  auto doc = r.bodyJson();
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("error"))
    return "<no error code in: " + r.body() + ">";
  return doc["error"].GetString();
}

} // namespace

TEST_CASE("a REQUEST_URI with a bad escape is answered 400 bad_request", "[app][router]") {
  AppFixture fx;
  FakeRequest& r = fx.get("/push/sub/a%zz");
  CHECK(r.finished);
  CHECK(r.status() == 400);
  CHECK(errorCode(r) == "bad_request");
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Cache-Control") == "no-store");
  CHECK(r.header("X-Accel-Buffering") == "no");
  CHECK(r.header("X-Content-Type-Options") == "nosniff");
  CHECK(fx.stats.responses[400] == 1);
}

TEST_CASE("while shutting down control requests get 503 with Retry-After", "[app][router]") {
  AppFixture fx;
  fx.host.shutting_down = true;
  for (const char* method : {"GET", "POST"}) {
    FakeRequest& r = fx.control(method, "/push/ctl/health");
    CHECK(r.status() == 503);
    CHECK(r.header("Retry-After") == "2");
    CHECK(errorCode(r) == "shutting_down");
  }
  CHECK(fx.control("POST", "/push/ctl/pub/a", "1").status() == 503);
  CHECK(fx.engine.stats().published == 0);
}

TEST_CASE("while shutting down a subscribe is told to reconnect with its cursor",
          "[app][router][shutdown]") {
  AppFixture fx;
  fx.host.shutting_down = true;
  FakeRequest& lp = fx.get("/push/sub/a?cursor=a:E-4");
  REQUIRE(lp.finished);
  CHECK(lp.status() == 200);
  CHECK(lp.header("Retry-After") == "1");
  auto doc = lp.bodyJson();
  CHECK(doc["reconnect"].IsTrue());
  CHECK(doc["messages"].Size() == 0);
  CHECK(support::member(doc, "cursor") == "a:E-4");
  CHECK_FALSE(lp.held);

  FakeRequest& sse = fx.get("/push/sub/a?transport=sse&cursor=a:E-4");
  REQUIRE(sse.finished);
  CHECK(sse.header("Content-Type") == "text/event-stream");
  CHECK_THAT(sse.body(), Catch::StartsWith("retry: ") && Catch::Contains("event: reconnect\n") &&
                             Catch::Contains("\"reason\":\"shutdown\""));
  // Bad requests are still told what is wrong.
  CHECK(fx.get("/push/sub/a?transport=nope").status() == 400);
  CHECK(fx.stats.heldTotal() == 0);
}

TEST_CASE("during a hand-over control requests that change state get 503", "[app][router]") {
  AppFixture fx;
  fx.host.handing_over = true;
  FakeRequest& pub = fx.publish("a", "1");
  CHECK(pub.status() == 503);
  CHECK(errorCode(pub) == "restarting");
  CHECK(pub.header("Retry-After") == "1");
  CHECK(fx.control("DELETE", "/push/ctl/channels/a").status() == 503);
  CHECK(fx.control("GET", "/push/ctl/health").status() == 200);
  CHECK(fx.control("GET", "/push/ctl/stats").status() == 200);
  CHECK(fx.get("/push/sub/a?transport=poll").status() == 200);
}

TEST_CASE("FastCGI params over 64 KiB are answered 431", "[app][router]") {
  AppFixture fx;
  RequestSpec spec;
  spec.uri = "/push/sub/a";
  spec.params_too_large = true;
  FakeRequest& r = fx.send(app::Socket::kData, spec);
  CHECK(r.status() == 431);
  CHECK(errorCode(r) == "headers_too_large");
}

TEST_CASE("a body over max_body is answered 413 naming the limit", "[app][router]") {
  AppFixture fx;
  RequestSpec spec;
  spec.method = "POST";
  spec.uri = "/push/ctl/pub/a";
  spec.body_too_large = true;
  FakeRequest& r = fx.send(app::Socket::kControl, spec);
  CHECK(r.status() == 413);
  CHECK(errorCode(r) == "body_too_large");
  CHECK_THAT(r.body(), Catch::Contains(std::to_string(fx.config.max_body)));
}

TEST_CASE("data connections over max_connections get 503, control ones do not", "[app][router]") {
  AppFixture fx([](config::Config& c) { c.max_connections = 2; });
  fx.stats.connections[1] = 2;
  CHECK(fx.get("/push/sub/a?transport=poll").status() == 200);
  fx.stats.connections[1] = 3;
  FakeRequest& over = fx.get("/push/sub/a?transport=poll");
  CHECK(over.status() == 503);
  CHECK(errorCode(over) == "overloaded");
  CHECK(over.header("Retry-After") == "5");
  fx.stats.connections[0] = 100;
  CHECK(fx.control("GET", "/push/ctl/health").status() == 200);
  // The descriptor budget (data_capacity) caps data connections below max_connections too.
  fx.stats.connections[1] = 2;
  fx.stats.data_capacity = 1;
  CHECK(fx.get("/push/sub/a?transport=poll").status() == 503);
}

TEST_CASE("OPTIONS preflight is 204 for an allowed origin and 403 otherwise",
          "[app][router][cors]") {
  AppFixture fx;
  for (auto socket : {app::Socket::kData, app::Socket::kControl}) {
    RequestSpec spec;
    spec.method = "OPTIONS";
    spec.uri = socket == app::Socket::kData ? "/push/sub/a" : "/push/ctl/pub/a";
    spec.origin = support::kOrigin;
    FakeRequest& ok = fx.send(socket, spec);
    CHECK(ok.status() == 204);
    CHECK(ok.body().empty());
    CHECK(ok.header("Access-Control-Allow-Origin") == support::kOrigin);
    CHECK_THAT(*ok.header("Access-Control-Allow-Methods"), Catch::Contains("POST"));
    CHECK_THAT(*ok.header("Access-Control-Allow-Headers"), Catch::Contains("Last-Event-ID"));
    CHECK(ok.hasHeader("Access-Control-Max-Age"));

    spec.origin = "https://evil.example";
    FakeRequest& bad = fx.send(socket, spec);
    CHECK(bad.status() == 403);
    CHECK(errorCode(bad) == "forbidden_origin");
    CHECK_FALSE(bad.hasHeader("Access-Control-Allow-Origin"));

    spec.origin.clear();
    CHECK(fx.send(socket, spec).status() == 403);
  }
}

TEST_CASE("unknown control routes and paths outside the control mount are 404", "[app][router]") {
  AppFixture fx;
  FakeRequest& unknown = fx.control("GET", "/push/ctl/nothing");
  CHECK(unknown.status() == 404);
  CHECK(errorCode(unknown) == "not_found");
  CHECK_THAT(unknown.body(), Catch::Contains("/nothing"));
  CHECK(fx.control("GET", "/elsewhere/health").status() == 404);
  CHECK(fx.control("GET", "/push/ctlx/health").status() == 404);
  CHECK(fx.control("GET", "/push/ctl/health?a=%zz").status() == 400);
}

TEST_CASE("data paths outside the mount are 404, the bare mount 400, POST 405", "[app][router]") {
  AppFixture fx;
  FakeRequest& outside = fx.get("/other/a");
  CHECK(outside.status() == 404);
  CHECK(errorCode(outside) == "not_found");
  CHECK(fx.get("/push/subx/a").status() == 404);

  FakeRequest& bare = fx.get("/push/sub/");
  CHECK(bare.status() == 400);
  CHECK(errorCode(bare) == "bad_channel");
  CHECK_THAT(bare.body(), Catch::Contains("no channel"));
  CHECK(fx.get("/push/sub").status() == 400);

  RequestSpec post;
  post.method = "POST";
  post.uri = "/push/sub/a";
  FakeRequest& wrong = fx.send(app::Socket::kData, post);
  CHECK(wrong.status() == 405);
  CHECK(wrong.header("Allow") == "GET, OPTIONS");
  CHECK(errorCode(wrong) == "method_not_allowed");
}

TEST_CASE("bad channel names on the data socket are 400 bad_channel", "[app][router]") {
  AppFixture fx;
  for (const char* uri : {"/push/sub/a%20b", "/push/sub/a,,b", "/push/sub/a,a%2Fb"}) {
    FakeRequest& r = fx.get(uri);
    CAPTURE(uri);
    CHECK(r.status() == 400);
    CHECK(errorCode(r) == "bad_channel");
  }
}

TEST_CASE("health answers GET with 200 and any other method with 405", "[app][router]") {
  AppFixture fx;
  FakeRequest& ok = fx.control("GET", "/push/ctl/health", "", "", std::string());
  CHECK(ok.status() == 200);
  CHECK(support::member(ok.bodyJson(), "status") == "ok");
  fx.stats.pid = 4321;
  CHECK(support::member(fx.control("GET", "/push/ctl/health").bodyJson(), "pid") == "4321");
  FakeRequest& post = fx.control("POST", "/push/ctl/health");
  CHECK(post.status() == 405);
  CHECK(post.header("Allow") == "GET");
}

TEST_CASE("stats and metrics need the publish key and GET", "[app][router][auth]") {
  AppFixture fx;
  for (std::string route : {"/push/ctl/stats", "/push/ctl/metrics"}) {
    CAPTURE(route);
    FakeRequest& ok = fx.control("GET", route);
    CHECK(ok.status() == 200);
    FakeRequest& none = fx.control("GET", route, "", "", std::string());
    CHECK(none.status() == 401);
    CHECK(errorCode(none) == "unauthorized");
    CHECK(none.header("WWW-Authenticate") == "Bearer realm=\"holdfast\"");
    FakeRequest& wrong = fx.control("GET", route, "", "", std::string("Bearer nope"));
    CHECK(wrong.status() == 403);
    CHECK(errorCode(wrong) == "forbidden");
    CHECK(
        fx.control("GET", route, "", "", "bearer " + std::string(support::kPublishKey)).status() ==
        200);
    CHECK(
        fx.control("GET", route, "", "", "BEARER " + std::string(support::kPublishKey)).status() ==
        200);
    CHECK(fx.control("GET", route, "", "", "Basic " + std::string(support::kPublishKey)).status() ==
          403);
    FakeRequest& post = fx.control("POST", route);
    CHECK(post.status() == 405);
    CHECK(post.header("Allow") == "GET");
  }
  CHECK(fx.control("GET", "/push/ctl/stats").header("Content-Type") == "application/json");
  CHECK_THAT(*fx.control("GET", "/push/ctl/metrics").header("Content-Type"),
             Catch::StartsWith("text/plain; version=0.0.4"));
}

TEST_CASE("the channel list pages with limit and after", "[app][router][channels]") {
  AppFixture fx;
  for (const char* ch : {"c", "a", "b"})
    REQUIRE(fx.publish(ch, "1").status() == 202);

  FakeRequest& all = fx.control("GET", "/push/ctl/channels");
  REQUIRE(all.status() == 200);
  auto doc = all.bodyJson();
  REQUIRE(doc["channels"].Size() == 3);
  CHECK(doc["channels"][0]["channel"] == "a");
  CHECK(doc["channels"][2]["channel"] == "c");
  CHECK(doc["next"].IsNull());

  FakeRequest& first = fx.control("GET", "/push/ctl/channels?limit=2");
  auto page1 = first.bodyJson();
  REQUIRE(page1["channels"].Size() == 2);
  CHECK(page1["channels"][1]["channel"] == "b");
  CHECK(page1["next"] == "b");
  CHECK(page1["channels"][0]["messages"].GetUint() == 1);
  CHECK(page1["channels"][0]["last_seq"].GetUint() == 1);

  auto page2 = fx.control("GET", "/push/ctl/channels?limit=2&after=b").bodyJson();
  REQUIRE(page2["channels"].Size() == 1);
  CHECK(page2["channels"][0]["channel"] == "c");
  CHECK(page2["next"].IsNull());

  for (const char* bad : {"0", "1001", "x", "-1", "5x"}) {
    FakeRequest& r = fx.control("GET", std::string("/push/ctl/channels?limit=") + bad);
    CAPTURE(bad);
    CHECK(r.status() == 400);
    CHECK(errorCode(r) == "bad_limit");
  }
  CHECK(fx.control("POST", "/push/ctl/channels").status() == 405);
  CHECK(fx.control("GET", "/push/ctl/channels", "", "", std::string()).status() == 401);
}

TEST_CASE("channel info and delete answer 200, 404 for unknown and 400 for bad names",
          "[app][router][channels]") {
  AppFixture fx;
  REQUIRE(fx.publish("room", "{\"n\":1}").status() == 202);

  FakeRequest& info = fx.control("GET", "/push/ctl/channels/room");
  REQUIRE(info.status() == 200);
  auto doc = info.bodyJson();
  CHECK(doc["channel"] == "room");
  CHECK(doc["messages"].GetUint() == 1);
  CHECK(doc["bytes"].GetUint() > 0);
  std::string epoch = doc["epoch"].GetString();
  CHECK(doc["first_id"] == (epoch + "-1").c_str());
  CHECK(doc["last_id"] == (epoch + "-1").c_str());
  CHECK(doc["subscribers"].GetUint() == 0);
  CHECK(doc["last_publish"].GetInt64() == fx.clock.wallMs());

  FakeRequest& missing = fx.control("GET", "/push/ctl/channels/nope");
  CHECK(missing.status() == 404);
  CHECK(errorCode(missing) == "no_channel");

  FakeRequest& bad = fx.control("GET", "/push/ctl/channels/a%20b");
  CHECK(bad.status() == 400);
  CHECK(errorCode(bad) == "bad_channel");

  FakeRequest& put = fx.control("PUT", "/push/ctl/channels/room");
  CHECK(put.status() == 405);
  CHECK(put.header("Allow") == "GET, DELETE");

  FakeRequest& del = fx.control("DELETE", "/push/ctl/channels/room");
  REQUIRE(del.status() == 200);
  CHECK(del.bodyJson()["deleted"].IsTrue());
  CHECK(del.bodyJson()["channel"] == "room");
  CHECK(fx.control("DELETE", "/push/ctl/channels/room").status() == 404);
  CHECK(fx.control("GET", "/push/ctl/channels/room").status() == 404);
}

TEST_CASE("publish with GET is 405 with Allow: POST", "[app][router]") {
  AppFixture fx;
  FakeRequest& r = fx.control("GET", "/push/ctl/pub/a");
  CHECK(r.status() == 405);
  CHECK(r.header("Allow") == "POST");
}
