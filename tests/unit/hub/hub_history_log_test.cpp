// hub::HistoryLog: publish and delete are offered to the log before they take effect, and a
// refusal leaves the hub as it was (nothing consumed, buffered, fanned out or dropped).
#include <catch2/catch.hpp>

#include "support/hub_fixture.h"

#include <string>
#include <vector>

#include "hub/hub.h"

using namespace holdfast;

namespace {

struct FakeLog final : hub::HistoryLog {
  bool accept = true;
  std::vector<std::string> seen;
  bool logPublish(const hub::Message& m, std::string& error) override {
    seen.push_back("P " + m.channel + " " + m.id());
    if (!accept)
      error = "disk full";
    return accept;
  }
  bool logDelete(std::string_view channel, std::string& error) override {
    seen.push_back("D " + std::string(channel));
    if (!accept)
      error = "disk full";
    return accept;
  }
};

struct Counting final : hub::Subscriber {
  int delivered = 0;
  int deleted = 0;
  bool deliver(const hub::MessagePtr&) override {
    ++delivered;
    return true;
  }
  void channelDeleted(const std::string&) override { ++deleted; }
};

struct Fixture : support::HubFixture {
  FakeLog log;
  Fixture() { hub.setHistoryLog(&log); }
};

} // namespace

TEST_CASE("history log sees every publish and delete with its id", "[hub][log]") {
  Fixture f;
  f.hub.publish("a", "", "1", true);
  f.hub.publish("a", "", "2", true);
  CHECK(f.hub.deleteChannel("a"));
  CHECK_FALSE(f.hub.deleteChannel("a")); // not found: nothing logged
  CHECK(f.log.seen == std::vector<std::string>{"P a T1-1", "P a T1-2", "D a"});
}

TEST_CASE("a refused publish consumes no seq and reaches no subscriber", "[hub][log]") {
  Fixture f;
  Counting sub;
  f.hub.subscribe(sub, f.hub.touch("a"));
  f.hub.publish("a", "", "1", true);
  f.log.accept = false;
  hub::PublishResult r = f.hub.publish("a", "", "2", true);
  CHECK(r.status == hub::PublishResult::Status::kUnavailable);
  CHECK(r.error == "disk full");
  CHECK_FALSE(r.message);
  CHECK(sub.delivered == 1);
  CHECK(f.hub.find("a")->lastSeq() == 1);
  CHECK(f.hub.stats().published == 1);
  f.log.accept = true;
  CHECK(f.hub.publish("a", "", "3", true).message->seq == 2);
  f.hub.unsubscribeAll(sub);
}

TEST_CASE("a refused delete keeps the channel and its subscribers", "[hub][log]") {
  Fixture f;
  Counting sub;
  f.hub.subscribe(sub, f.hub.touch("a"));
  f.hub.publish("a", "", "1", true);
  f.log.accept = false;
  hub::DeleteResult d = f.hub.deleteChannel("a");
  CHECK(d.status == hub::DeleteResult::Status::kUnavailable);
  CHECK(d.error == "disk full");
  CHECK_FALSE(d);
  CHECK(sub.deleted == 0);
  REQUIRE(f.hub.find("a"));
  CHECK(f.hub.find("a")->subscriberCount() == 1);
  f.hub.unsubscribeAll(sub);
}

TEST_CASE("a message too large is refused before the log sees it", "[hub][log]") {
  hub::Limits limits;
  limits.max_bytes = 200;
  util::FakeClock clock;
  util::CountingRandom random;
  hub::Hub h(limits, clock, random);
  FakeLog log;
  h.setHistoryLog(&log);
  CHECK(h.publish("a", "", std::string(500, 'x'), false).status ==
        hub::PublishResult::Status::kTooLarge);
  CHECK(log.seen.empty());
}
