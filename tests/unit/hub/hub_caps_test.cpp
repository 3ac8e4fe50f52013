// hub::Hub capacity: the max_channels cap on creating channels, prompt collection of idle
// empty channels (channel_idle) and the resume rule for a collected channel's epoch
// (docs/api.md, "Idle channels").
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "hub/hub.h"

using namespace holdfast;
using hub::Hub;
using hub::Limits;
using hub::Position;
using hub::PublishResult;
using hub::ReadResult;
using hub::Start;

namespace {

Limits capped(size_t max_channels, int64_t idle_ms = 1000) {
  Limits l;
  l.max_channels = max_channels;
  l.channel_idle_ms = idle_ms;
  l.max_age_ms = 10 * idle_ms;
  return l;
}

struct Fixture {
  explicit Fixture(Limits limits) : hub(limits, clock, random) {}
  util::FakeClock clock;
  util::CountingRandom random;
  Hub hub;

  ReadResult from(std::string_view channel, std::string epoch, uint64_t seq) {
    Position p{std::string(channel), std::move(epoch), seq};
    return hub.read({Start{p.channel, Start::Mode::kCursor, 0, p}});
  }
  ReadResult fresh(std::vector<std::string> channels) {
    std::vector<Start> starts;
    for (auto& ch : channels)
      starts.push_back(Start{ch, Start::Mode::kNew, 0, {}});
    return hub.read(starts);
  }
  PublishResult pub(std::string_view channel) { return hub.publish(channel, "", "x", false); }
  void idle(int64_t ms) {
    clock.advance(ms);
    hub.sweep();
  }
};

} // namespace

TEST_CASE("a read, head or publish past max_channels creates nothing and is refused",
          "[hub][caps]") {
  Fixture f(capped(3));
  REQUIRE_FALSE(f.fresh({"a", "b"}).too_many_channels);
  // Two more would pass the cap: refused whole, not one created.
  ReadResult refused = f.fresh({"a", "c", "d"});
  CHECK(refused.too_many_channels);
  CHECK(refused.cursor.empty());
  CHECK(f.hub.find("c") == nullptr);
  CHECK(f.hub.stats().channels == 2);
  // Existing channels are always served; one new one still fits.
  CHECK_FALSE(f.fresh({"a", "b", "c"}).too_many_channels);
  CHECK(f.pub("a").status == PublishResult::Status::kOk);
  PublishResult p = f.pub("e");
  CHECK(p.status == PublishResult::Status::kTooManyChannels);
  CHECK(p.error.find("max_channels") != std::string::npos);
  CHECK(f.hub.stats().published == 1);
  CHECK(f.hub.mayCreate({"a", "b"}));
  CHECK_FALSE(f.hub.mayCreate({"x"}));
}

TEST_CASE("mayCreate counts a missing channel named twice once", "[hub][caps]") {
  Fixture f(capped(2));
  f.hub.touch("a");
  CHECK(f.hub.mayCreate({"b", "b", "a"}));
  CHECK_FALSE(f.hub.mayCreate({"b", "c"}));
}

TEST_CASE("an empty, unsubscribed channel never published to is collected after channel_idle",
          "[hub][caps][sweep]") {
  Fixture f(capped(10, 1000));
  f.hub.touch("virgin");
  f.pub("history");
  REQUIRE(f.from("history", f.hub.find("history")->epoch(), 1).gaps.empty());
  f.idle(1000);
  CHECK(f.hub.find("virgin")); // idle exactly channel_idle: not yet
  f.idle(1);
  CHECK(f.hub.find("virgin") == nullptr);
  CHECK(f.hub.stats().remembered == 1);
  // The channel with history keeps the max_age rule (its message ages out first).
  CHECK(f.hub.find("history"));
  f.idle(10000);
  CHECK(f.hub.find("history") == nullptr);
  CHECK(f.hub.stats().remembered == 1); // its epoch is not reused
  CHECK(f.hub.stats().channels == 0);
}

TEST_CASE("a cursor at seq 0 of a collected unpublished channel resumes without a gap",
          "[hub][caps][resume]") {
  Fixture f(capped(10));
  std::string epoch = f.hub.head("c").epoch; // the client's cursor: c:EPOCH-0
  f.idle(1001);
  REQUIRE(f.hub.find("c") == nullptr);

  SECTION("re-created by the client's own read") {
    ReadResult r = f.from("c", epoch, 0);
    CHECK(r.gaps.empty());
    REQUIRE(r.cursor.size() == 1);
    CHECK(r.cursor[0] == (Position{"c", epoch, 0}));
  }
  SECTION("re-created by a publish first: the client gets it, still without a gap") {
    PublishResult p = f.pub("c");
    REQUIRE(p.status == PublishResult::Status::kOk);
    CHECK(p.message->id() == epoch + "-1");
    ReadResult r = f.from("c", epoch, 0);
    CHECK(r.gaps.empty());
    REQUIRE(r.messages.size() == 1);
    CHECK(r.messages[0]->seq == 1);
  }
  CHECK(f.hub.stats().remembered == 0); // recalled once, then forgotten
}

TEST_CASE("collected channels whose epoch is not reused still report the gap",
          "[hub][caps][resume]") {
  Fixture f(capped(2));
  SECTION("a channel that had messages, collected after max_age: gap reason epoch") {
    f.pub("h");
    std::string epoch = f.hub.find("h")->epoch();
    f.idle(10001); // the message ages out at this sweep; the channel goes at the next
    f.idle(10001);
    REQUIRE(f.hub.find("h") == nullptr);
    ReadResult r = f.from("h", epoch, 0);
    REQUIRE(r.gaps.size() == 1);
    CHECK(r.gaps[0].reason == "epoch");
  }
  SECTION("a deleted channel: its remembered epoch is dropped too") {
    std::string epoch = f.hub.head("d").epoch;
    f.idle(1001);
    CHECK(f.hub.deleteChannel("d").status == hub::DeleteResult::Status::kNotFound);
    ReadResult r = f.from("d", epoch, 0);
    REQUIRE(r.gaps.size() == 1);
    CHECK(r.gaps[0].reason == "epoch");
  }
  SECTION("memory of epochs is bounded by max_channels, oldest forgotten first") {
    std::string first = f.hub.head("m1").epoch;
    f.idle(1001);
    std::string second = f.hub.head("m2").epoch;
    f.idle(1001);
    f.hub.head("m3");
    f.idle(1001); // three remembered past a capacity of two: m1 is forgotten
    CHECK(f.hub.stats().remembered == 2);
    CHECK(f.from("m2", second, 0).gaps.empty());
    ReadResult r = f.from("m1", first, 0);
    REQUIRE(r.gaps.size() == 1); // forgotten: reported, never silently wrong
    CHECK(r.gaps[0].reason == "epoch");
  }
}

TEST_CASE("subscribed or recently used channels are not collected early", "[hub][caps][sweep]") {
  Fixture f(capped(10));
  struct Sink final : hub::Subscriber {
    bool deliver(const hub::MessagePtr&) override { return true; }
    void channelDeleted(const std::string&) override {}
  } sink;
  f.hub.subscribe(sink, f.hub.touch("watched"));
  f.hub.touch("used");
  f.clock.advance(900);
  f.hub.head("used");
  f.idle(900);
  CHECK(f.hub.find("watched"));
  CHECK(f.hub.find("used"));
  f.hub.unsubscribeAll(sink);
  f.idle(1001);
  CHECK(f.hub.find("watched") == nullptr);
  CHECK(f.hub.find("used") == nullptr);
}
