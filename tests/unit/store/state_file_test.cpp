// The snapshot: round trip, checksum, and every kind of damage rejected with a message, never a
// crash.
#include <catch2/catch.hpp>

#include "support/hub_fixture.h"

#include <cstdio>
#include <string>

#include "hub/hub.h"
#include "store/crc32.h"
#include "store/history.h"
#include "store/state_file.h"
#include "util/clock.h"
#include "util/random.h"

using holdfast::hub::Hub;
using holdfast::store::History;
using holdfast::store::parseState;
using holdfast::store::serializeState;
using holdfast::store::SnapshotMeta;

namespace {

using Fixture = support::HubFixture;

std::string header() {
  return "HOLDFAST-STATE 2\nG 7 unclean always boot-1\n";
}

// Appends the END line with the right checksum.
std::string seal(const std::string& body) {
  char crc[9];
  snprintf(crc, sizeof crc, "%08x", holdfast::store::crc32(body));
  return body + "END " + crc + "\n";
}

std::string record(const std::string& json, const std::string& fields = "1 1700000000000 message") {
  return "M " + fields + " " + std::to_string(json.size()) + "\n" + json + "\n";
}

const std::string kJson = R"({"channel":"a","id":"T1-1","event":"message","data":1,"time":1})";

bool loads(const std::string& text, std::string& error) {
  History history;
  SnapshotMeta meta;
  return parseState(text, history, meta, error);
}

} // namespace

TEST_CASE("crc32 matches the standard check value", "[store]") {
  CHECK(holdfast::store::crc32("123456789") == 0xCBF43926u);
  CHECK(holdfast::store::crc32("") == 0);
  CHECK(holdfast::store::crc32("6789", holdfast::store::crc32("12345")) == 0xCBF43926u);
}

TEST_CASE("state file: saved history loads back with the same epochs, ids and bytes", "[store]") {
  Fixture a;
  a.hub.publish("room.a", "message", R"({"x": [1, 2]})", true);
  a.hub.publish("room.a", "note", "line one\nline two", false);
  a.hub.publish("b", "message", "{}", true);
  SnapshotMeta meta{2, 42, true, "interval", "abc-def"};
  std::string text = serializeState(a.hub, meta);

  History history;
  SnapshotMeta read;
  std::string error;
  REQUIRE(parseState(text, history, read, error));
  CHECK(read.generation == 42);
  CHECK(read.clean);
  CHECK(read.sync == "interval");
  CHECK(read.boot_id == "abc-def");
  CHECK(history.channelCount() == 2);
  CHECK(history.messageCount() == 3);
  Fixture b;
  history.restoreInto(b.hub);
  const auto* ra = a.hub.find("room.a");
  const auto* rb = b.hub.find("room.a");
  REQUIRE(rb);
  CHECK(rb->epoch() == ra->epoch());
  CHECK(rb->lastSeq() == 2);
  REQUIRE(rb->messages().size() == 2);
  CHECK(rb->messages()[1]->json == ra->messages()[1]->json);
  CHECK(rb->messages()[1]->event == "note");
  REQUIRE(b.hub.find("b"));
  CHECK(b.hub.find("b")->messages().front()->json == a.hub.find("b")->messages().front()->json);
  // ids continue after a restart
  auto next = b.hub.publish("room.a", "message", "3", true);
  CHECK(next.message->seq == 3);
  CHECK(next.message->epoch == ra->epoch());
}

TEST_CASE("state file: an unknown boot id round-trips as empty", "[store]") {
  Fixture a;
  std::string text = serializeState(a.hub, SnapshotMeta{2, 1, false, "off", ""});
  History history;
  SnapshotMeta read;
  std::string error;
  REQUIRE(parseState(text, history, read, error));
  CHECK(read.boot_id.empty());
  CHECK_FALSE(read.clean);
}

TEST_CASE("state file: a version 1 file is recognised but not trusted", "[store]") {
  History history;
  SnapshotMeta meta;
  std::string error;
  REQUIRE(parseState("HOLDFAST-STATE 1\nC a T1 0 0\nEND\n", history, meta, error));
  CHECK(meta.version == 1);
  CHECK(history.channelCount() == 0);
}

TEST_CASE("state file: damage is reported, never a crash", "[store]") {
  std::string error;
  const std::string c = "C a T1 1 1\n";
  SECTION("not a state file") {
    CHECK_FALSE(loads("hello\n", error));
    CHECK_THAT(error, Catch::Contains("not a holdfast state file"));
  }
  SECTION("truncated: no END") {
    CHECK_FALSE(loads(header() + c + record(kJson), error));
  }
  SECTION("a flipped byte fails the checksum") {
    std::string text = seal(header() + c + record(kJson));
    text[text.find("\"data\":1") + 7] = '2';
    CHECK_FALSE(loads(text, error));
    CHECK_THAT(error, Catch::Contains("checksum mismatch"));
  }
  SECTION("bytes after END") {
    CHECK_FALSE(loads(seal(header() + c + record(kJson)) + "x", error));
    CHECK_THAT(error, Catch::Contains("bad END line"));
  }
  SECTION("a bad G line") {
    CHECK_FALSE(loads(seal("HOLDFAST-STATE 2\nG 1 maybe always -\n"), error));
    CHECK_THAT(error, Catch::Contains("bad G line"));
  }
  SECTION("a channel listed twice") {
    CHECK_FALSE(loads(seal(header() + "C a T1 0 0\nC a T2 0 0\n"), error));
    CHECK_THAT(error, Catch::Contains("appears twice"));
  }
  SECTION("a length that would overflow the bounds check") {
    CHECK_FALSE(
        loads(seal(header() + c + "M 1 1 message 18446744073709551615\n" + kJson + "\n"), error));
    CHECK_THAT(error, Catch::Contains("bad message record"));
  }
  SECTION("a length past the end") {
    CHECK_FALSE(loads(seal(header() + c + "M 1 1 message 999\n" + kJson + "\n"), error));
  }
  SECTION("an event name that could inject SSE lines") {
    CHECK_FALSE(loads(seal(header() + c + record(kJson, "1 1 ev\rx")), error));
    CHECK_THAT(error, Catch::Contains("bad message event, time or JSON"));
  }
  SECTION("message JSON that does not parse") {
    CHECK_FALSE(loads(seal(header() + c + record("{\"channel\":")), error));
  }
  SECTION("message JSON that is not an object") {
    CHECK_FALSE(loads(seal(header() + c + record("[1]")), error));
  }
  SECTION("a negative time") {
    CHECK_FALSE(loads(seal(header() + c + record(kJson, "1 -5 message")), error));
  }
  SECTION("a sequence beyond the channel's last") {
    CHECK_FALSE(loads(seal(header() + "C a T1 1 1\n" + record(kJson, "2 1 message")), error));
  }
  SECTION("a channel sequence out of range") {
    CHECK_FALSE(loads(seal(header() + "C a T1 18446744073709551615 0\n"), error));
    CHECK_THAT(error, Catch::Contains("out of range"));
  }
  SECTION("a bad channel name") {
    CHECK_FALSE(loads(seal(header() + "C a:b T1 0 0\n"), error));
  }
  SECTION("errors name the byte offset") {
    CHECK_FALSE(loads(seal(header() + "C a:b T1 0 0\n"), error));
    CHECK_THAT(error, Catch::Contains("at byte " + std::to_string(header().size())));
  }
  SECTION("a well-formed file loads") {
    CHECK(loads(seal(header() + c + record(kJson)), error));
  }
}
