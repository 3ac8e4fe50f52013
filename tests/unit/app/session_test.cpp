// Sessions across the data and control sockets: issuing, superseding, closing, live
// subscribe/unsubscribe and piggyback reads.
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

// Starts a session with a poll on `channels` and returns its id.
std::string newSession(AppFixture& fx, const std::string& channels) {
  FakeRequest& r = fx.get("/push/sub/" + channels + "?transport=poll&session=new");
  REQUIRE(r.status() == 200);
  auto id = r.header("X-Holdfast-Session");
  REQUIRE(id);
  return *id;
}

} // namespace

TEST_CASE("session=new issues an id in the header, the body and the hello frame",
          "[app][session]") {
  AppFixture fx;
  FakeRequest& poll = fx.get("/push/sub/a?transport=poll&session=new");
  auto id = poll.header("X-Holdfast-Session");
  REQUIRE(id);
  CHECK(session::SessionTable::isValidId(*id));
  CHECK(member(poll.bodyJson(), "session") == *id);
  CHECK(fx.sessions.find(*id) != nullptr);

  FakeRequest& sse = fx.get("/push/sub/a?transport=sse&session=new");
  auto sid = sse.header("X-Holdfast-Session");
  REQUIRE(sid);
  CHECK(*sid != *id);
  auto events = sseEvents(sse.body());
  REQUIRE(events.size() == 1);
  CHECK(member(parseJson(events[0].data), "session") == *sid);
  CHECK(fx.sessions.size() == 2);

  // A held long-poll of a session answers with the session too.
  FakeRequest& lp = fx.get("/push/sub/a?session=" + *id);
  REQUIRE_FALSE(lp.ended());
  fx.publish("a", "1");
  REQUIRE(lp.finished);
  CHECK(lp.header("X-Holdfast-Session") == *id);
  CHECK(member(lp.bodyJson(), "session") == *id);
  CHECK(lp.bodyJson()["messages"].Size() == 1);
}

TEST_CASE("a newer request of a session ends the held long-poll with 409", "[app][session]") {
  AppFixture fx;
  std::string id = newSession(fx, "a");
  FakeRequest& first = fx.get("/push/sub/a?session=" + id);
  REQUIRE_FALSE(first.ended());
  FakeRequest& second = fx.get("/push/sub/a?session=" + id);
  REQUIRE(first.finished);
  CHECK(first.status() == 409);
  CHECK(member(first.bodyJson(), "error") == "session_taken_over");
  CHECK_FALSE(second.ended());
  fx.release();
  // The superseded request's release does not detach the newer one.
  CHECK(fx.sessions.find(id)->serial == second.ref().serial);
  fx.publish("a", "1");
  CHECK(second.status() == 200);

  // A poll takes over too.
  FakeRequest& third = fx.get("/push/sub/a?session=" + id);
  FakeRequest& poll = fx.get("/push/sub/a?transport=poll&session=" + id);
  CHECK(third.status() == 409);
  CHECK(poll.status() == 200);
}

TEST_CASE("a newer request of a session ends the held stream with a superseded closed frame",
          "[app][session]") {
  AppFixture fx;
  FakeRequest& first = fx.get("/push/sub/a?transport=sse&session=new");
  std::string id = *first.header("X-Holdfast-Session");
  size_t mark = first.out.size();
  FakeRequest& second = fx.get("/push/sub/a?transport=ndjson&session=" + id);
  REQUIRE(first.finished);
  auto events = sseEvents(first.since(mark));
  REQUIRE(events.size() == 1);
  CHECK(events[0].event == "closed");
  CHECK(member(parseJson(events[0].data), "reason") == "superseded");
  CHECK_FALSE(second.ended());
  CHECK(second.header("X-Holdfast-Session") == id);
}

TEST_CASE("closing a session ends its held request with the closed answer", "[app][session]") {
  AppFixture fx;
  std::string id = newSession(fx, "a");
  FakeRequest& lp = fx.get("/push/sub/a?session=" + id);
  REQUIRE_FALSE(lp.ended());
  // Session routes are authorised by the id alone.
  FakeRequest& close =
      fx.control("POST", "/push/ctl/session/" + id + "/close", "", "", std::string());
  CHECK(close.status() == 200);
  auto c = close.bodyJson();
  CHECK(member(c, "session") == id);
  CHECK(c["closed"].IsTrue());
  REQUIRE(lp.finished);
  CHECK(lp.status() == 200);
  auto doc = lp.bodyJson();
  CHECK(member(doc, "closed") == "session closed");
  CHECK(doc["messages"].Size() == 0);
  CHECK(fx.sessions.find(id) == nullptr);
  fx.release();
  CHECK(fx.sessions.size() == 0);
  CHECK(fx.get("/push/sub/a?session=" + id).status() == 404);
  CHECK(fx.control("POST", "/push/ctl/session/" + id + "/close").status() == 404);

  FakeRequest& sse = fx.get("/push/sub/a?transport=sse&session=new");
  std::string sid = *sse.header("X-Holdfast-Session");
  size_t mark = sse.out.size();
  fx.control("POST", "/push/ctl/session/" + sid + "/close");
  REQUIRE(sse.finished);
  auto events = sseEvents(sse.since(mark));
  REQUIRE(events.size() == 1);
  CHECK(events[0].event == "closed");
  CHECK(member(parseJson(events[0].data), "reason") == "session closed");
}

TEST_CASE("session subscribe and unsubscribe change a live stream's channels", "[app][session]") {
  AppFixture fx;
  FakeRequest& sse = fx.get("/push/sub/a?transport=sse&session=new");
  std::string id = *sse.header("X-Holdfast-Session");

  FakeRequest& sub = fx.control("POST", "/push/ctl/session/" + id + "/subscribe?channel=b,c");
  REQUIRE(sub.status() == 200);
  auto s = sub.bodyJson();
  CHECK(member(s, "session") == id);
  CHECK(str(s["channels"]) == "[\"b\",\"c\"]");

  size_t mark = sse.out.size();
  CHECK(fx.publish("b", "{\"on\":\"b\"}").status() == 201);
  auto got = sseEvents(sse.since(mark));
  REQUIRE(got.size() == 1);
  auto m = parseJson(got[0].data);
  CHECK(member(m, "channel") == "b");
  // The stream's cursor now covers both channels.
  CHECK(got[0].id ==
        "a:" + fx.epoch("a") + "-0,b:" + fx.epoch("b") + "-1,c:" + fx.epoch("c") + "-0");

  FakeRequest& unsub = fx.control("POST", "/push/ctl/session/" + id + "/unsubscribe?channel=b");
  REQUIRE(unsub.status() == 200);
  CHECK(str(unsub.bodyJson()["channels"]) == "[\"c\"]");
  mark = sse.out.size();
  CHECK(fx.publish("b", "2").status() == 202);
  CHECK(sse.since(mark).empty());
  CHECK(fx.publish("c", "3").status() == 201);
  CHECK(fx.publish("a", "4").status() == 201);
  CHECK(sseEvents(sse.since(mark)).size() == 2);

  CHECK(fx.control("POST", "/push/ctl/session/" + id + "/subscribe").status() == 400);
  CHECK(fx.control("POST", "/push/ctl/session/" + id + "/subscribe?channel=a%20b").status() == 400);
}

TEST_CASE("a session may not grow past max_channels_per_request", "[app][session]") {
  AppFixture fx([](config::Config& c) { c.max_channels_per_request = 2; });
  FakeRequest& sse = fx.get("/push/sub/a,b?transport=sse&session=new");
  std::string id = *sse.header("X-Holdfast-Session");
  FakeRequest& r = fx.control("POST", "/push/ctl/session/" + id + "/subscribe?channel=c");
  CHECK(r.status() == 400);
  CHECK(member(r.bodyJson(), "error") == "too_many_channels");
  // Channels it already has do not count twice.
  CHECK(fx.control("POST", "/push/ctl/session/" + id + "/subscribe?channel=a").status() == 200);
  size_t mark = sse.out.size();
  fx.publish("c", "1");
  CHECK(sse.since(mark).empty());
}

TEST_CASE("a publish carrying session=ID piggybacks that session's pending messages",
          "[app][session][piggyback]") {
  AppFixture fx;
  std::string id = newSession(fx, "a");
  std::string e = fx.epoch("a");
  FakeRequest& p1 = fx.publish("a", "{\"n\":1}", "?session=" + id);
  CHECK(p1.status() == 202);
  auto d1 = p1.bodyJson();
  CHECK(member(d1, "channel") == "a");
  REQUIRE(d1.HasMember("messages"));
  REQUIRE(d1["messages"].Size() == 1);
  CHECK(member(d1["messages"][0], "id") == e + "-1");
  CHECK(member(d1, "cursor") == "a:" + e + "-1");

  // The session's cursor advanced: only the new message comes next.
  auto d2 = fx.publish("a", "{\"n\":2}", "?session=" + id).bodyJson();
  REQUIRE(d2["messages"].Size() == 1);
  CHECK(member(d2["messages"][0], "id") == e + "-2");

  fx.publish("a", "{\"n\":3}");
  FakeRequest& read = fx.control("GET", "/push/ctl/session/" + id, "", "", std::string());
  REQUIRE(read.status() == 200);
  auto d3 = read.bodyJson();
  CHECK(member(d3, "session") == id);
  REQUIRE(d3["messages"].Size() == 1);
  CHECK(member(d3["messages"][0], "id") == e + "-3");
  CHECK(member(d3, "cursor") == "a:" + e + "-3");
  CHECK(fx.control("GET", "/push/ctl/session/" + id).bodyJson()["messages"].Size() == 0);

  // A data request of the session resumes after what piggyback delivered.
  fx.publish("a", "{\"n\":4}");
  auto poll = fx.get("/push/sub/a?transport=poll&session=" + id).bodyJson();
  CHECK(poll["messages"].Size() == 0); // no cursor given: only new messages
  // Without a live session there is no piggyback.
  auto none = fx.publish("a", "5", "?session=AAAAAAAAAAAAAAAAAAAAAA").bodyJson();
  CHECK_FALSE(none.HasMember("messages"));
}

TEST_CASE("a held long-poll's cursor is kept by its session after release",
          "[app][session][piggyback]") {
  AppFixture fx;
  std::string id = newSession(fx, "a");
  std::string e = fx.epoch("a");
  FakeRequest& lp = fx.get("/push/sub/a?session=" + id);
  fx.publish("a", "1");
  REQUIRE(lp.finished);
  fx.release();
  CHECK(hub::formatCursor(fx.sessions.find(id)->cursor) == "a:" + e + "-1");
  fx.publish("a", "2");
  auto d = fx.control("GET", "/push/ctl/session/" + id).bodyJson();
  REQUIRE(d["messages"].Size() == 1);
  CHECK(member(d["messages"][0], "id") == e + "-2");
}

TEST_CASE("session routes: unknown session 404, wrong method 405, unknown action 404",
          "[app][session]") {
  AppFixture fx;
  FakeRequest& unknown = fx.control("GET", "/push/ctl/session/AAAAAAAAAAAAAAAAAAAAAA");
  CHECK(unknown.status() == 404);
  CHECK(member(unknown.bodyJson(), "error") == "unknown_session");
  CHECK(fx.control("POST", "/push/ctl/session/short/close").status() == 404);

  std::string id = newSession(fx, "a");
  FakeRequest& get_close = fx.control("GET", "/push/ctl/session/" + id + "/close");
  CHECK(get_close.status() == 405);
  CHECK(get_close.header("Allow") == "POST");
  FakeRequest& del = fx.control("DELETE", "/push/ctl/session/" + id);
  CHECK(del.status() == 405);
  CHECK(del.header("Allow") == "GET, POST"); // GET session/ID is the piggyback read
  CHECK(fx.control("POST", "/push/ctl/session/" + id + "/explode").status() == 404);
  CHECK(fx.sessions.find(id) != nullptr);
}
