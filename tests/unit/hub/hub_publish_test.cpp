// hub::Hub publish: ids, buffer limits (count, bytes, age, global memory), refusals, restore.
#include <catch2/catch.hpp>

#include "support/hub_fixture.h"

#include <string>
#include <vector>

#include "hub/hub.h"

using namespace holdfast;
using hub::Hub;
using hub::Limits;
using hub::MessagePtr;
using hub::PublishResult;

namespace {

struct Fixture : support::HubFixture {
  using HubFixture::HubFixture;

  MessagePtr pub(std::string_view channel, std::string_view data = "x") {
    PublishResult r = publishOk(channel, data);
    REQUIRE(r.message);
    return r.message;
  }
  std::vector<uint64_t> buffered(std::string_view channel) {
    std::vector<uint64_t> seqs;
    if (const hub::Channel* ch = hub.find(channel))
      for (const MessagePtr& m : ch->messages())
        seqs.push_back(m->seq);
    return seqs;
  }
};

// Cost of a message of `data` published on `channel` of a CountingRandom epoch "T1".
size_t costOf(std::string_view channel, std::string_view data) {
  return hub::makeMessage(std::string(channel), "T1", 1, "", data, false, 1700000001000)->cost();
}

using Seqs = std::vector<uint64_t>;

} // namespace

TEST_CASE("publish assigns EPOCH-SEQ ids per channel", "[hub][publish]") {
  Fixture f;
  MessagePtr a1 = f.pub("a");
  MessagePtr a2 = f.pub("a");
  MessagePtr b1 = f.pub("b");
  CHECK(a1->id() == "T1-1");
  CHECK(a2->id() == "T1-2");
  CHECK(b1->id() == "T2-1"); // each channel gets its own epoch when first touched
  CHECK(a1->channel == "a");
  CHECK(a1->event == "message");
  CHECK(a1->time_ms == f.clock.wallMs());
  CHECK(a2->json.find("\"id\":\"T1-2\"") != std::string::npos);
  const hub::Channel* a = f.hub.find("a");
  REQUIRE(a);
  CHECK(a->epoch() == "T1");
  CHECK(a->lastSeq() == 2);
  CHECK(a->firstSeq() == 1);
  CHECK(a->lastPublishMs() == f.clock.wallMs());
  CHECK(a->bytes() == a1->cost() + a2->cost());
  auto s = f.hub.stats();
  CHECK(s.published == 3);
  CHECK(s.channels == 2);
  CHECK(s.buffered == 3);
  CHECK(s.buffered_bytes == a1->cost() + a2->cost() + b1->cost());
  CHECK(s.evicted == 0);
}

TEST_CASE("publish passes the event name and JSON flag through", "[hub][publish]") {
  Fixture f;
  PublishResult r = f.hub.publish("a", "update", "{\"n\":1}", true);
  REQUIRE(r.status == PublishResult::Status::kOk);
  CHECK(r.message->event == "update");
  CHECK(r.message->json.find("\"data\":{\"n\":1}") != std::string::npos);
  CHECK(r.subscribers == 0);
}

TEST_CASE("a channel has an epoch and seq 0 before its first message", "[hub][publish]") {
  Fixture f;
  CHECK(f.hub.find("a") == nullptr);
  CHECK(f.hub.head("a") == hub::Position{"a", "T1", 0});
  REQUIRE(f.hub.find("a"));
  CHECK(f.hub.find("a")->firstSeq() == 1);
  CHECK(f.pub("a")->id() == "T1-1");
  CHECK(f.hub.head("a") == hub::Position{"a", "T1", 1});
}

TEST_CASE("eviction by message count", "[hub][publish][evict]") {
  Limits limits;
  limits.max_messages = 3;
  Fixture f(limits);
  for (int i = 0; i < 5; ++i)
    f.pub("a");
  CHECK(f.buffered("a") == Seqs{3, 4, 5});
  CHECK(f.hub.find("a")->firstSeq() == 3);
  CHECK(f.hub.stats().evicted == 2);
  CHECK(f.hub.stats().buffered == 3);
  CHECK(f.hub.stats().buffered_bytes == f.hub.find("a")->bytes());
}

TEST_CASE("eviction by channel bytes", "[hub][publish][evict]") {
  Limits limits;
  size_t cost = costOf("a", "0123456789");
  limits.max_bytes = 3 * cost + cost / 2;
  Fixture f(limits);
  for (int i = 0; i < 6; ++i)
    CHECK(f.pub("a", "0123456789")->cost() == cost);
  CHECK(f.buffered("a") == Seqs{4, 5, 6});
  CHECK(f.hub.find("a")->bytes() == 3 * cost);
  CHECK(f.hub.stats().evicted == 3);
  CHECK(f.hub.stats().buffered_bytes == 3 * cost);
}

TEST_CASE("eviction by age uses the monotonic clock", "[hub][publish][evict]") {
  Limits limits;
  limits.max_age_ms = 1000;
  Fixture f(limits);
  f.pub("a"); // t = 0
  f.clock.advance(600);
  f.pub("a"); // t = 600
  f.pub("b"); // t = 600
  f.clock.advance(400);
  f.hub.sweep(); // ages 1000 and 400: nothing is older than max_age yet
  CHECK(f.buffered("a") == Seqs{1, 2});
  f.clock.advance(1);
  f.hub.sweep();
  CHECK(f.buffered("a") == Seqs{2});
  CHECK(f.buffered("b") == Seqs{1});
  CHECK(f.hub.stats().evicted == 1);
  f.clock.advance(600);
  f.pub("a"); // a publish ages its own channel out first
  CHECK(f.buffered("a") == Seqs{3});
  CHECK(f.buffered("b") == Seqs{1}); // untouched until the next sweep
  f.hub.sweep();
  CHECK(f.buffered("b").empty());
  CHECK(f.hub.stats().buffered == 1);
  CHECK(f.hub.stats().evicted == 3);
}

TEST_CASE("the global memory limit evicts the oldest messages across channels",
          "[hub][publish][evict]") {
  Limits limits;
  size_t cost = costOf("a", "payload");
  limits.memory_limit = 4 * cost;
  Fixture f(limits);
  f.pub("a", "payload"); // a1
  f.pub("b", "payload"); // b1
  f.pub("a", "payload"); // a2
  f.pub("b", "payload"); // b2
  CHECK(f.hub.stats().evicted == 0);
  f.pub("c", "payload"); // over the cap: a1 is the oldest
  CHECK(f.buffered("a") == Seqs{2});
  CHECK(f.buffered("b") == Seqs{1, 2});
  CHECK(f.buffered("c") == Seqs{1});
  f.pub("c", "payload"); // next oldest: b1
  CHECK(f.buffered("b") == Seqs{2});
  f.pub("a", "payload"); // then a2
  CHECK(f.buffered("a") == Seqs{3});
  CHECK(f.buffered("b") == Seqs{2});
  CHECK(f.buffered("c") == Seqs{1, 2});
  auto s = f.hub.stats();
  CHECK(s.evicted == 3);
  CHECK(s.buffered == 4);
  CHECK(s.buffered_bytes == 4 * cost);
  CHECK(s.buffered_bytes <= limits.memory_limit);
}

TEST_CASE("the memory limit frees room for a big message in one go", "[hub][publish][evict]") {
  Limits limits;
  size_t small = costOf("a", "s");
  limits.memory_limit = 6 * small;
  Fixture f(limits);
  for (int i = 0; i < 5; ++i)
    f.pub(i % 2 ? "a" : "b", "s");
  // Needs the room of about three and a half small ones: the three oldest go (b1, a1, b2).
  std::string big(2 * small + small / 2, 'x');
  f.pub("c", big);
  CHECK(f.buffered("b") == Seqs{3});
  CHECK(f.buffered("a") == Seqs{2});
  CHECK(f.buffered("c") == Seqs{1});
  CHECK(f.hub.stats().buffered_bytes <= limits.memory_limit);
  CHECK(f.hub.stats().evicted == 3);
}

TEST_CASE("a message too large for any buffer is refused without consuming a seq",
          "[hub][publish]") {
  Limits limits;
  limits.max_bytes = 1000;
  Fixture f(limits);
  f.pub("a");
  PublishResult r = f.hub.publish("a", "", std::string(2000, 'x'), false);
  CHECK(r.status == PublishResult::Status::kTooLarge);
  CHECK_FALSE(r.message);
  CHECK(r.error.find("per-channel limit of 1000 bytes") != std::string::npos);
  CHECK(f.hub.find("a")->lastSeq() == 1);
  CHECK(f.buffered("a") == Seqs{1});
  CHECK(f.hub.stats().published == 1);
  CHECK(f.pub("a")->id() == "T1-2");

  limits.max_bytes = 1 << 20;
  limits.memory_limit = 500;
  f.hub.setLimits(limits);
  r = f.hub.publish("a", "", std::string(600, 'x'), false);
  CHECK(r.status == PublishResult::Status::kTooLarge);
  CHECK(r.error.find("memory limit of 500 bytes") != std::string::npos);
  CHECK(f.hub.find("a")->lastSeq() == 2);
}

TEST_CASE("lowered limits apply at the next sweep", "[hub][publish][evict]") {
  Fixture f;
  for (int i = 0; i < 10; ++i)
    f.pub("a");
  Limits limits = f.hub.limits();
  limits.max_messages = 4;
  f.hub.setLimits(limits);
  CHECK(f.hub.limits().max_messages == 4);
  CHECK(f.buffered("a").size() == 10);
  f.hub.sweep();
  CHECK(f.buffered("a") == Seqs{7, 8, 9, 10});
  CHECK(f.hub.stats().buffered == 4);
}

TEST_CASE("restore recreates a channel and ids continue", "[hub][publish][restore]") {
  Limits limits;
  limits.max_age_ms = 3000;
  Fixture f(limits);
  int64_t wall = f.clock.wallMs();
  std::vector<MessagePtr> saved;
  for (uint64_t seq : {8, 9, 10})
    saved.push_back(hub::makeMessage("r", "Ep-1", seq, "", "old", false, wall - 2000));
  size_t bytes = 0;
  for (const auto& m : saved)
    bytes += m->cost();
  hub::Channel& ch = f.hub.restore("r", "Ep-1", 10, saved);
  CHECK(&ch == f.hub.find("r"));
  CHECK(ch.epoch() == "Ep-1");
  CHECK(ch.lastSeq() == 10);
  CHECK(ch.firstSeq() == 8);
  CHECK(ch.lastPublishMs() == wall - 2000);
  CHECK(f.hub.stats().buffered == 3);
  CHECK(f.hub.stats().buffered_bytes == bytes);
  CHECK(ch.messages()[0]->json == saved[0]->json);
  CHECK(f.pub("r")->id() == "Ep-1-11");

  // Ages continue from the persisted wall time: 2000 ms old already, 3000 allowed.
  f.clock.advance(1000);
  f.hub.sweep();
  CHECK(f.buffered("r") == Seqs{8, 9, 10, 11});
  f.clock.advance(1);
  f.hub.sweep();
  CHECK(f.buffered("r") == Seqs{11});
}

TEST_CASE("restore replaces what a channel had", "[hub][publish][restore]") {
  Fixture f;
  f.pub("r");
  f.pub("r");
  auto m = hub::makeMessage("r", "Old", 4, "", "z", false, f.clock.wallMs());
  f.hub.restore("r", "Old", 5, {m});
  CHECK(f.hub.find("r")->epoch() == "Old");
  CHECK(f.buffered("r") == Seqs{4});
  CHECK(f.hub.stats().buffered == 1);
  CHECK(f.hub.stats().buffered_bytes == m->cost());
  f.hub.restore("e", "E", 0, {});
  CHECK(f.hub.head("e") == hub::Position{"e", "E", 0});
}
