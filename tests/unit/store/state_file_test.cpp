// The state file: round trip, and every kind of damage rejected with a message, never a crash.
#include <catch2/catch.hpp>

#include <string>

#include "hub/hub.h"
#include "store/state_file.h"
#include "util/clock.h"
#include "util/random.h"

using holdfast::hub::Hub;
using holdfast::store::LoadStats;
using holdfast::store::parseState;
using holdfast::store::serializeState;

namespace {

struct Fixture {
  holdfast::util::FakeClock clock;
  holdfast::util::CountingRandom random;
  Hub hub{holdfast::hub::Limits{}, clock, random};
};

std::string header() { return "HOLDFAST-STATE 1\n"; }

std::string record(const std::string& json, const std::string& fields = "1 1700000000000 message") {
  return "M " + fields + " " + std::to_string(json.size()) + "\n" + json + "\n";
}

const std::string kJson = R"({"channel":"a","id":"T1-1","event":"message","data":1,"time":1})";

bool loads(const std::string& text, std::string& error) {
  Fixture f;
  LoadStats stats;
  return parseState(text, f.hub, stats, error);
}

} // namespace

TEST_CASE("state file: saved history loads back with the same epochs, ids and bytes", "[store]") {
  Fixture a;
  a.hub.publish("room.a", "message", R"({"x": [1, 2]})", true);
  a.hub.publish("room.a", "note", "line one\nline two", false);
  a.hub.publish("b", "message", "{}", true);
  std::string text = serializeState(a.hub);

  Fixture b;
  LoadStats stats;
  std::string error;
  REQUIRE(parseState(text, b.hub, stats, error));
  CHECK(stats.channels == 2);
  CHECK(stats.messages == 3);
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

TEST_CASE("state file: damage is reported, never a crash", "[store]") {
  std::string error;
  const std::string c = "C a T1 1 1\n";
  SECTION("not a state file") {
    CHECK_FALSE(loads("hello\n", error));
    CHECK_THAT(error, Catch::Contains("not a holdfast state file"));
  }
  SECTION("truncated: no END") { CHECK_FALSE(loads(header() + c + record(kJson), error)); }
  SECTION("a length that would overflow the bounds check") {
    CHECK_FALSE(loads(header() + c + "M 1 1 message 18446744073709551615\n" + kJson + "\nEND\n",
                      error));
    CHECK_THAT(error, Catch::Contains("bad message record"));
  }
  SECTION("a length past the end") {
    CHECK_FALSE(loads(header() + c + "M 1 1 message 999\n" + kJson + "\nEND\n", error));
  }
  SECTION("an event name that could inject SSE lines") {
    CHECK_FALSE(loads(header() + c + record(kJson, "1 1 ev\rx") + "END\n", error));
    CHECK_THAT(error, Catch::Contains("bad message event, time or JSON"));
  }
  SECTION("message JSON that does not parse") {
    CHECK_FALSE(loads(header() + c + record("{\"channel\":") + "END\n", error));
  }
  SECTION("message JSON that is not an object") {
    CHECK_FALSE(loads(header() + c + record("[1]") + "END\n", error));
  }
  SECTION("a negative time") {
    CHECK_FALSE(loads(header() + c + record(kJson, "1 -5 message") + "END\n", error));
  }
  SECTION("a sequence beyond the channel's last") {
    CHECK_FALSE(loads(header() + "C a T1 1 1\n" + record(kJson, "2 1 message") + "END\n", error));
  }
  SECTION("a channel sequence out of range") {
    CHECK_FALSE(loads(header() + "C a T1 18446744073709551615 0\nEND\n", error));
    CHECK_THAT(error, Catch::Contains("out of range"));
  }
  SECTION("a bad channel name") {
    CHECK_FALSE(loads(header() + "C a:b T1 0 0\nEND\n", error));
  }
  SECTION("a well-formed file loads") {
    CHECK(loads(header() + c + record(kJson) + "END\n", error));
  }
}
