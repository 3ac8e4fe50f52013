// Sessions in Redis: key names, the write commands, fetch replies and control messages.
#include <catch2/catch.hpp>

#include "redis/keys.h"
#include "redis/sessions.h"
#include "reply_builder.h"

using namespace holdfast;
using namespace holdfast::redis;
using redis::test::Node;
using Kind = session::Command::Kind;
using Status = session::Lookup::Status;

namespace {

const std::string kId = "AAAAAAAAAAAAAAAAAAAAAA"; // 22 base64url chars

hub::Cursor cursorOf(const std::string& text) {
  std::string error;
  auto c = hub::parseCursor(text, error);
  REQUIRE(c);
  return *c;
}

} // namespace

TEST_CASE("redis session keys are hash-tagged by id; node channels by node", "[redis]") {
  CHECK(sessionKey(kId) == "holdfast:session:{" + kId + "}");
  CHECK(nodeChannel("n0de") == "holdfast:node:{n0de}:ctl");
  // Node channels are not channel pub/sub names: the fan-out ignores them.
  CHECK_FALSE(channelOfPubsub(nodeChannel("n0de")));
}

TEST_CASE("redis session write commands name the key, values and ttl", "[redis]") {
  Command put = putSessionCommand(kId, cursorOf("a:E-3,b:F-0"), 60000);
  REQUIRE(put.size() == 8);
  CHECK(put[0] == "EVAL");
  CHECK(put[2] == "1");
  CHECK(put[3] == sessionKey(kId));
  CHECK(put[4] == "cursor");
  CHECK(put[5] == "a:E-3,b:F-0");
  CHECK(put[6] == "60000");
  CHECK(put[7] == "1");                            // issuing and touching may create the key
  CHECK(put[1].find("PTTL") != std::string::npos); // never shortens a holding node's ttl

  Command claim = claimSessionCommand(kId, "n1", 3660000);
  CHECK(claim[4] == "node");
  CHECK(claim[5] == "n1");
  CHECK(claim[6] == "3660000");
  CHECK(claim[7] == "0"); // a claim never brings a closed session back

  Command release = releaseSessionCommand(kId, "n1", {}, 60000);
  REQUIRE(release.size() == 7);
  CHECK(release[4] == "n1");
  CHECK(release[5] == "");
  CHECK(release[1].find("== ARGV[1]") != std::string::npos); // only this node's claim
  CHECK(release[1].find("EXISTS") != std::string::npos);     // a closed session stays closed
  CHECK(eraseSessionCommand(kId) == Command{"DEL", sessionKey(kId)});
  CHECK(fetchSessionCommand(kId) == Command{"HGETALL", sessionKey(kId)});
}

TEST_CASE("redis session fetch: found, missing, unavailable, bad cursor", "[redis]") {
  auto found =
      Node::array({Node::str("cursor"), Node::str("a:E-3"), Node::str("node"), Node::str("n1")});
  session::Lookup l = parseSessionFetch(found.get(), 64);
  CHECK(l.status == Status::kFound);
  CHECK(hub::formatCursor(l.record.cursor) == "a:E-3");
  CHECK(l.record.node == "n1");

  auto detached = Node::array({Node::str("cursor"), Node::str("")});
  l = parseSessionFetch(detached.get(), 64);
  CHECK(l.status == Status::kFound);
  CHECK(l.record.cursor.empty());
  CHECK(l.record.node.empty());

  auto empty = Node::array({});
  CHECK(parseSessionFetch(empty.get(), 64).status == Status::kMissing);
  CHECK(parseSessionFetch(nullptr, 64).status == Status::kUnavailable);
  auto err = Node::error("LOADING");
  CHECK(parseSessionFetch(err.get(), 64).status == Status::kUnavailable);

  auto bad = Node::array({Node::str("cursor"), Node::str("no cursor!")});
  l = parseSessionFetch(bad.get(), 64);
  CHECK(l.status == Status::kFound);
  CHECK(l.record.cursor.empty());
}

TEST_CASE("redis session commands round-trip", "[redis]") {
  session::Command close{Kind::kClose, kId, {}, {}};
  CHECK(formatSessionCommand(close) == "C\n" + kId);
  session::Command sub{Kind::kSubscribe, kId, cursorOf("x:E-0,y:F-7"), {}};
  CHECK(formatSessionCommand(sub) == "S\n" + kId + "\nx:E-0,y:F-7");
  session::Command unsub{Kind::kUnsubscribe, kId, {}, {"x", "y"}};
  CHECK(formatSessionCommand(unsub) == "U\n" + kId + "\nx,y");

  for (const auto& c : {close, sub, unsub, session::Command{Kind::kSupersede, kId, {}, {}}}) {
    auto back = parseSessionCommand(formatSessionCommand(c), 64);
    REQUIRE(back);
    CHECK(back->kind == c.kind);
    CHECK(back->session == kId);
    CHECK(hub::formatCursor(back->positions) == hub::formatCursor(c.positions));
    CHECK(back->channels == c.channels);
  }
}

TEST_CASE("redis session commands: malformed payloads are refused", "[redis]") {
  for (const std::string& bad :
       std::vector<std::string>{"", "C", "C\nshort", "Q\n" + kId, "C\n" + kId + "\nextra",
                                "S\n" + kId, "S\n" + kId + "\nnot a cursor",
                                "U\n" + kId + "\nbad name!", "S\n" + kId + "\n", "C" + kId}) {
    CAPTURE(bad);
    CHECK_FALSE(parseSessionCommand(bad, 64));
  }
}
