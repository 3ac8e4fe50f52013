// hub::Hub subscriber index and fan-out, channel deletion, sweep, list and stats.
#include <catch2/catch.hpp>

#include "support/hub_fixture.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "hub/hub.h"

using namespace holdfast;
using hub::Channel;
using hub::Hub;
using hub::Limits;
using hub::MessagePtr;
using hub::PublishResult;

namespace {

// Records what the hub hands it.
class Recorder final : public hub::Subscriber {
public:
  bool deliver(const MessagePtr& message) override {
    got.push_back(message);
    return true;
  }
  void channelDeleted(const std::string& channel) override { deleted.push_back(channel); }

  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const MessagePtr& m : got)
      out.push_back(m->channel + ":" + m->id());
    return out;
  }
  std::vector<std::string> channelNames() const {
    std::vector<std::string> out;
    for (const Channel* c : channels())
      out.push_back(c->name());
    return out;
  }

  std::vector<MessagePtr> got;
  std::vector<std::string> deleted;
};

struct Fixture : support::HubFixture {
  using HubFixture::HubFixture;
  PublishResult pub(std::string_view channel) { return publishOk(channel); }
};

using Strings = std::vector<std::string>;

} // namespace

TEST_CASE("fan-out delivers the one rendered message to each subscriber once", "[hub][fanout]") {
  Fixture f;
  Recorder s1, s2, s3, other;
  Channel& c = f.hub.touch("c");
  f.hub.subscribe(s1, c);
  f.hub.subscribe(s2, c);
  f.hub.subscribe(s3, c);
  f.hub.subscribe(s3, c); // subscribing twice is one subscription
  f.hub.subscribe(other, f.hub.touch("d"));
  CHECK(c.subscriberCount() == 3);
  CHECK(s3.channelNames() == Strings{"c"});

  PublishResult r = f.pub("c");
  CHECK(r.subscribers == 3);
  for (Recorder* s : {&s1, &s2, &s3}) {
    REQUIRE(s->got.size() == 1);
    CHECK(s->got[0] == r.message); // the same object: rendered once, shared by all
  }
  CHECK(other.got.empty());
  CHECK(f.pub("e").subscribers == 0);
  f.hub.unsubscribeAll(s1);
  f.hub.unsubscribeAll(s2);
  f.hub.unsubscribeAll(s3);
  f.hub.unsubscribeAll(other);
}

TEST_CASE("fan-out to 10,000 subscribers reaches each exactly once", "[hub][fanout]") {
  Fixture f;
  std::vector<std::unique_ptr<Recorder>> subs;
  Channel& c = f.hub.touch("big");
  for (int i = 0; i < 10000; ++i) {
    subs.push_back(std::make_unique<Recorder>());
    f.hub.subscribe(*subs.back(), c);
  }
  PublishResult r = f.pub("big");
  CHECK(r.subscribers == 10000);
  CHECK(std::all_of(subs.begin(), subs.end(),
                    [&](const auto& s) { return s->got.size() == 1 && s->got[0] == r.message; }));
  CHECK(r.message.use_count() == 10000 + 2); // subscribers, the ring and `r`
  for (auto& s : subs)
    f.hub.unsubscribeAll(*s);
  CHECK(c.subscriberCount() == 0);
}

TEST_CASE("a subscriber on two channels", "[hub][fanout]") {
  Fixture f;
  Recorder s;
  f.hub.subscribe(s, f.hub.touch("a"));
  f.hub.subscribe(s, f.hub.touch("b"));
  CHECK(s.channelNames() == Strings{"a", "b"});
  f.pub("a");
  f.pub("b");
  f.pub("a");
  CHECK(s.ids() == Strings{"a:T1-1", "b:T2-1", "a:T1-2"});

  f.hub.unsubscribe(s, *f.hub.find("a"));
  CHECK(s.channelNames() == Strings{"b"});
  CHECK(f.hub.find("a")->subscriberCount() == 0);
  CHECK(f.hub.find("b")->subscriberCount() == 1);
  f.hub.unsubscribe(s, *f.hub.find("a")); // not subscribed: nothing happens
  f.pub("a");
  f.pub("b");
  CHECK(s.ids() == Strings{"a:T1-1", "b:T2-1", "a:T1-2", "b:T2-2"});
  f.hub.unsubscribeAll(s);
}

TEST_CASE("unsubscribeAll undoes both halves of the index and is idempotent", "[hub][fanout]") {
  Fixture f;
  Recorder s, keep;
  for (const char* name : {"a", "b", "c"})
    f.hub.subscribe(s, f.hub.touch(name));
  f.hub.subscribe(keep, *f.hub.find("b"));
  f.hub.unsubscribeAll(s);
  CHECK(s.channels().empty());
  CHECK(f.hub.find("a")->subscriberCount() == 0);
  CHECK(f.hub.find("b")->subscriberCount() == 1);
  f.hub.unsubscribeAll(s);
  CHECK(s.channels().empty());
  CHECK(f.hub.find("b")->subscriberCount() == 1);
  f.pub("a");
  f.pub("b");
  CHECK(s.got.empty());
  CHECK(keep.got.size() == 1);
  // Subscribing again after unsubscribeAll works normally.
  f.hub.subscribe(s, *f.hub.find("a"));
  f.pub("a");
  CHECK(s.ids() == Strings{"a:T1-2"});
  f.hub.unsubscribeAll(s);
  f.hub.unsubscribeAll(keep);
}

TEST_CASE("deleteChannel notifies subscribers, drops history, and a new epoch follows",
          "[hub][delete]") {
  Fixture f;
  Recorder s1, s2;
  f.hub.subscribe(s1, f.hub.touch("gone"));
  f.hub.subscribe(s1, f.hub.touch("stay"));
  f.hub.subscribe(s2, *f.hub.find("gone"));
  f.pub("gone");
  f.pub("gone");
  f.pub("stay");
  size_t stay_bytes = f.hub.find("stay")->bytes();

  CHECK(f.hub.deleteChannel("gone"));
  CHECK(s1.deleted == Strings{"gone"});
  CHECK(s2.deleted == Strings{"gone"});
  CHECK(s1.channelNames() == Strings{"stay"});
  CHECK(s2.channels().empty());
  CHECK(f.hub.find("gone") == nullptr);
  auto st = f.hub.stats();
  CHECK(st.channels == 1);
  CHECK(st.buffered == 1);
  CHECK(st.buffered_bytes == stay_bytes);
  CHECK(st.evicted == 0);
  CHECK_FALSE(f.hub.deleteChannel("gone"));
  CHECK_FALSE(f.hub.deleteChannel("never"));

  CHECK(f.hub.head("gone") == hub::Position{"gone", "T3", 0});
  CHECK(f.pub("gone").message->id() == "T3-1");
  CHECK(s1.got.size() == 3); // still subscribed to "stay" only
  f.pub("stay");
  CHECK(s1.ids().back() == "stay:T2-2");
  f.hub.unsubscribeAll(s1);
  f.hub.unsubscribeAll(s2);
}

TEST_CASE("deleted channels leave the global eviction order", "[hub][delete]") {
  Limits limits;
  limits.memory_limit = 3 * hub::makeMessage("a", "T1", 1, "", "x", false, 1700001000000)->cost();
  Fixture f(limits);
  f.pub("a");
  f.pub("b");
  f.pub("a");
  REQUIRE(f.hub.deleteChannel("a"));
  f.pub("b");
  f.pub("b");
  f.pub("b"); // over the cap: b's own oldest goes, nothing of the deleted channel is touched
  CHECK(f.hub.find("b")->firstSeq() == 2);
  CHECK(f.hub.stats().buffered == 3);
  CHECK(f.hub.stats().evicted == 1);
}

TEST_CASE("sweep collects idle channels but not subscribed or buffered ones", "[hub][sweep]") {
  Limits limits;
  limits.max_age_ms = 1000;
  Fixture f(limits);
  Recorder s;
  f.hub.touch("idle");
  f.hub.subscribe(s, f.hub.touch("watched"));
  f.hub.subscribe(s, f.hub.touch("left"));
  f.clock.advance(900);
  f.hub.unsubscribe(s, *f.hub.find("left")); // lingers max_age from now
  f.pub("buffered");
  f.clock.advance(101);
  f.hub.sweep(); // t=1001
  CHECK(f.hub.find("idle") == nullptr);
  CHECK(f.hub.find("watched"));
  CHECK(f.hub.find("left"));
  REQUIRE(f.hub.find("buffered"));
  CHECK(f.hub.find("buffered")->messages().size() == 1);

  f.clock.advance(400);
  f.hub.head("buffered"); // t=1401: touching counts as activity
  f.clock.advance(500);
  f.hub.sweep(); // t=1901: the message aged out, the channel was active 500 ms ago
  CHECK(f.hub.find("left") == nullptr);
  REQUIRE(f.hub.find("buffered"));
  CHECK(f.hub.find("buffered")->messages().empty());
  CHECK(f.hub.find("watched"));
  f.clock.advance(501);
  f.hub.sweep(); // t=2402
  CHECK(f.hub.find("buffered") == nullptr);
  CHECK(f.hub.find("watched"));
  CHECK(f.hub.stats().channels == 1);
  f.hub.unsubscribeAll(s);
}

TEST_CASE("a collected channel comes back with a new epoch", "[hub][sweep]") {
  Limits limits;
  limits.max_age_ms = 10;
  Fixture f(limits);
  f.pub("c");
  f.clock.advance(11);
  f.hub.sweep();
  CHECK(f.hub.find("c") == nullptr);
  CHECK(f.pub("c").message->id() == "T2-1");
}

TEST_CASE("list pages channels by name", "[hub][list]") {
  Fixture f;
  for (const char* name : {"d", "a", "c", "b", "e"})
    f.hub.touch(name);
  auto namesOf = [](const std::vector<const Channel*>& v) {
    Strings out;
    for (const Channel* c : v)
      out.push_back(c->name());
    return out;
  };
  CHECK(namesOf(f.hub.list("", 100)) == Strings{"a", "b", "c", "d", "e"});
  CHECK(namesOf(f.hub.list("", 2)) == Strings{"a", "b"});
  CHECK(namesOf(f.hub.list("b", 2)) == Strings{"c", "d"});
  CHECK(namesOf(f.hub.list("bb", 10)) == Strings{"c", "d", "e"});
  CHECK(f.hub.list("e", 10).empty());
  CHECK(f.hub.list("", 0).empty());
}

TEST_CASE("forEachChannel visits every channel once", "[hub][list]") {
  Fixture f;
  f.pub("a");
  f.pub("b");
  f.hub.touch("c");
  Strings seen;
  f.hub.forEachChannel([&](const Channel& c) { seen.push_back(c.name()); });
  std::sort(seen.begin(), seen.end());
  CHECK(seen == Strings{"a", "b", "c"});
}
