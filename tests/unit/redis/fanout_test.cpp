// The node's fan-out: (un)subscribing on Redis, catch-up from history, no duplicates.
#include <catch2/catch.hpp>

#include "redis/fanout.h"

using namespace holdfast;

namespace {

struct Recorder final : hub::Subscriber {
  std::vector<uint64_t> seqs;
  std::vector<std::string> deleted;
  std::vector<hub::Gap> gaps;
  void gap(const hub::Gap& g) override { gaps.push_back(g); }
  bool deliver(const hub::MessagePtr& m) override {
    seqs.push_back(m->seq);
    return true;
  }
  void channelDeleted(const std::string& ch) override { deleted.push_back(ch); }
};

// linger_ms 0 (the default here): the channel is unsubscribed as soon as its last subscriber
// leaves, which most cases below assume.
struct Harness {
  explicit Harness(int64_t linger_ms = 0) : linger(linger_ms) {}
  std::vector<std::string> log;
  std::vector<hub::Position> catchups;
  util::FakeClock clock;
  int64_t linger;
  redis::Fanout fanout{
      redis::Fanout::Actions{[this](const std::string& ch) { log.push_back("sub " + ch); },
                             [this](const std::string& ch) { log.push_back("unsub " + ch); },
                             [this](const hub::Position& p) { catchups.push_back(p); }},
      clock, linger};
};

hub::MessagePtr msg(uint64_t seq, std::string epoch = "E") {
  return hub::makeMessage("ch", std::move(epoch), seq, "message", "1", true, 0);
}

hub::ReadResult history(std::vector<uint64_t> seqs, uint64_t head, std::string epoch = "E") {
  hub::ReadResult r;
  for (uint64_t s : seqs)
    r.messages.push_back(msg(s, epoch));
  r.cursor = {{"ch", epoch, head}};
  return r;
}

} // namespace

TEST_CASE("redis fanout: subscribes while it has subscribers", "[redis]") {
  Harness h;
  Recorder a, b;
  h.fanout.add(a, {"ch", "E", 0}); // link not ready yet: nothing sent
  CHECK(h.log.empty());
  h.fanout.linkReady();
  CHECK(h.log == std::vector<std::string>{"sub ch"});
  h.fanout.add(b, {"ch", "E", 0});
  CHECK(h.log.size() == 1);
  CHECK(h.fanout.subscriberCount("ch") == 2);
  h.fanout.remove(a, "ch");
  CHECK(h.log.size() == 1);
  h.fanout.removeAll(b);
  h.fanout.removeAll(b);
  CHECK(h.log == std::vector<std::string>{"sub ch", "unsub ch"});
  h.fanout.add(a, {"ch", "E", 0}); // waits for the UNSUBSCRIBE to be confirmed
  CHECK(h.log.size() == 2);
  h.fanout.unsubscribed("ch");
  CHECK(h.log.back() == "sub ch");
  h.fanout.removeAll(a);
  h.fanout.unsubscribed("ch");
  CHECK(h.fanout.channelCount() == 0);
}

TEST_CASE("redis fanout: confirmed subscribe catches up, then live messages flow", "[redis]") {
  Harness h;
  Recorder a;
  h.fanout.linkReady();
  h.fanout.add(a, {"ch", "E", 2});
  h.fanout.subscribed("ch");
  REQUIRE(h.catchups.size() == 1);
  CHECK(h.catchups[0] == hub::Position{"ch", "E", 2});
  h.fanout.message(msg(4)); // arrives while the catch-up is in flight: left to history
  CHECK(a.seqs.empty());
  h.fanout.caughtUp("ch", history({3, 4}, 4));
  CHECK(a.seqs == std::vector<uint64_t>{3, 4});
  REQUIRE(h.catchups.size() == 2); // news arrived meanwhile: read once more
  h.fanout.caughtUp("ch", history({}, 4));
  CHECK(h.fanout.message(msg(4)) == 0); // duplicate: not delivered again
  CHECK(h.fanout.message(msg(5)) == 1);
  CHECK(a.seqs == std::vector<uint64_t>{3, 4, 5});
  CHECK(h.catchups.size() == 2);
}

TEST_CASE("redis fanout: a subscriber behind the node is caught up alone", "[redis]") {
  Harness h;
  Recorder a, late;
  h.fanout.linkReady();
  h.fanout.add(a, {"ch", "E", 0});
  h.fanout.subscribed("ch");
  h.fanout.caughtUp("ch", history({}, 0));
  h.fanout.message(msg(1));
  h.fanout.message(msg(2));
  h.fanout.add(late, {"ch", "E", 1}); // read before seq 2 arrived
  REQUIRE(h.catchups.size() == 2);
  CHECK(h.catchups[1].seq == 1);
  h.fanout.caughtUp("ch", history({2}, 2));
  CHECK(a.seqs == std::vector<uint64_t>{1, 2});
  CHECK(late.seqs == std::vector<uint64_t>{2});
}

TEST_CASE("redis fanout: a skipped seq starts a catch-up; failures are retried", "[redis]") {
  Harness h;
  Recorder a;
  h.fanout.linkReady();
  h.fanout.add(a, {"ch", "E", 0});
  h.fanout.subscribed("ch");
  h.fanout.caughtUp("ch", history({}, 0));
  h.fanout.message(msg(2)); // seq 1 was missed
  CHECK(a.seqs.empty());
  REQUIRE(h.catchups.size() == 2);
  hub::ReadResult down;
  down.unavailable = true;
  h.fanout.caughtUp("ch", down);
  h.fanout.retry();
  REQUIRE(h.catchups.size() == 3);
  h.fanout.caughtUp("ch", history({1, 2}, 2));
  CHECK(a.seqs == std::vector<uint64_t>{1, 2});
  h.fanout.linkLost();
  CHECK(h.fanout.message(msg(3)) == 0); // not live until subscribed again
  h.fanout.linkReady();
  h.fanout.subscribed("ch");
  h.fanout.caughtUp("ch", history({3}, 3));
  CHECK(a.seqs == std::vector<uint64_t>{1, 2, 3});
}

TEST_CASE("redis fanout: new epochs and deletion", "[redis]") {
  Harness h;
  Recorder a, b;
  h.fanout.linkReady();
  h.fanout.add(a, {"ch", "E", 5});
  h.fanout.subscribed("ch");
  h.fanout.caughtUp("ch", history({}, 5));
  CHECK(h.fanout.message(msg(1, "F")) == 0); // recreated channel: caught up, with a gap
  REQUIRE(h.catchups.size() == 2);
  CHECK(h.catchups[1] == hub::Position{"ch", "F", 0});
  h.fanout.caughtUp("ch", history({1}, 1, "F"));
  CHECK(a.seqs == std::vector<uint64_t>{1});
  REQUIRE(a.gaps.size() == 1);
  CHECK(a.gaps[0].reason == "epoch");
  CHECK(a.gaps[0].requested == "E-6");
  CHECK(a.gaps[0].first_available == "F-1");
  h.fanout.add(b, {"ch", "F", 1});
  h.fanout.deleted("ch", "F");
  CHECK(a.deleted == std::vector<std::string>{"ch"});
  CHECK(b.deleted == std::vector<std::string>{"ch"});
  CHECK(h.fanout.subscriberCount("ch") == 0);
  CHECK(h.log.back() == "unsub ch");
  h.fanout.linkLost();
  CHECK(h.fanout.channelCount() == 0);
}

TEST_CASE("redis fanout: a held subscriber caught up past evicted messages is told", "[redis]") {
  Harness h;
  Recorder a, b;
  h.fanout.linkReady();
  h.fanout.add(a, {"ch", "E", 1});
  h.fanout.add(b, {"ch", "E", 4});
  h.fanout.subscribed("ch");
  h.fanout.caughtUp("ch", history({5, 6}, 6)); // 2..4 were evicted meanwhile
  CHECK(a.seqs == std::vector<uint64_t>{5, 6});
  REQUIRE(a.gaps.size() == 1);
  CHECK(a.gaps[0].reason == "evicted");
  CHECK(a.gaps[0].requested == "E-2");
  CHECK(a.gaps[0].first_available == "E-5");
  CHECK(b.seqs == std::vector<uint64_t>{5, 6});
  CHECK(b.gaps.empty());
}

TEST_CASE("redis fanout: live subscribers are not held up by another's catch-up", "[redis]") {
  Harness h;
  Recorder live, late;
  h.fanout.linkReady();
  h.fanout.add(live, {"ch", "E", 3});
  h.fanout.subscribed("ch");
  h.fanout.caughtUp("ch", history({}, 3));
  h.fanout.message(msg(4));
  h.fanout.add(late, {"ch", "E", 2}); // starts a catch-up
  REQUIRE(h.catchups.size() == 2);
  CHECK(h.fanout.message(msg(5)) == 1); // `live` gets it at once, `late` waits
  CHECK(live.seqs == std::vector<uint64_t>{4, 5});
  h.fanout.caughtUp("ch", history({3, 4}, 4)); // read before seq 5 was stored
  CHECK(late.seqs == std::vector<uint64_t>{3, 4});
  REQUIRE(h.catchups.size() == 3); // so it reads once more
  h.fanout.caughtUp("ch", history({5}, 5));
  CHECK(late.seqs == std::vector<uint64_t>{3, 4, 5});
  CHECK(live.seqs == std::vector<uint64_t>{4, 5});
}

TEST_CASE("redis fanout: an idle channel lingers, follows its head, then is unsubscribed",
          "[redis]") {
  Harness h(2000);
  Recorder a, b;
  h.fanout.linkReady();
  h.fanout.add(a, {"ch", "E", 0});
  h.fanout.subscribed("ch");
  h.fanout.caughtUp("ch", history({}, 0));
  h.fanout.message(msg(1));
  h.fanout.remove(a, "ch"); // a long-poll answered: no UNSUBSCRIBE yet
  CHECK(h.log == std::vector<std::string>{"sub ch"});
  CHECK(h.fanout.channelCount() == 1);
  CHECK(h.fanout.message(msg(2)) == 0); // nobody to give it to, but the head moves to 2
  h.clock.advance(1000);
  h.fanout.retry();
  CHECK(h.log.size() == 1);
  size_t catchups = h.catchups.size();
  h.fanout.add(b, {"ch", "E", 1}); // back from a read that ended at 1: behind the head
  REQUIRE(h.catchups.size() == catchups + 1);
  CHECK(h.catchups.back().seq == 1);
  h.fanout.caughtUp("ch", history({2}, 2));
  CHECK(b.seqs == std::vector<uint64_t>{2});
  h.fanout.add(a, {"ch", "E", 2}); // at the head: live messages only, no read
  CHECK(h.catchups.size() == catchups + 1);
  h.fanout.message(msg(3));
  CHECK(a.seqs == std::vector<uint64_t>{1, 3});
  CHECK(b.seqs == std::vector<uint64_t>{2, 3});
  h.fanout.removeAll(a);
  h.fanout.removeAll(b);
  h.clock.advance(1999);
  h.fanout.retry();
  CHECK(h.log.size() == 1); // idle for less than the linger
  h.clock.advance(1);
  h.fanout.retry();
  CHECK(h.log == std::vector<std::string>{"sub ch", "unsub ch"});
  h.fanout.unsubscribed("ch");
  CHECK(h.fanout.channelCount() == 0);
}

TEST_CASE("redis fanout: a lost link forgets lingering channels", "[redis]") {
  Harness h(2000);
  Recorder a;
  h.fanout.linkReady();
  h.fanout.add(a, {"ch", "E", 0});
  h.fanout.subscribed("ch");
  h.fanout.removeAll(a);
  CHECK(h.fanout.channelCount() == 1);
  h.fanout.linkLost();
  CHECK(h.fanout.channelCount() == 0);
  h.fanout.linkReady();
  CHECK(h.log == std::vector<std::string>{"sub ch"}); // not subscribed again
}

namespace {

// A live channel whose run holds 1..3 (epoch E) and whose subscriber is at 3.
struct LiveRun {
  Harness h{2000};
  Recorder a;
  hub::Limits limits;
  int64_t quiet = 60'000;
  LiveRun() {
    h.fanout.linkReady();
    h.fanout.add(a, {"ch", "E", 0});
    h.fanout.subscribed("ch");
    h.fanout.caughtUp("ch", history({}, 0));
    for (uint64_t s = 1; s <= 3; ++s)
      h.fanout.message(msg(s, "E"));
  }
  std::optional<redis::ChannelRead> read(uint64_t after, std::string epoch = "E",
                                         bool waits = false) {
    return h.fanout.recentRead({"ch", std::move(epoch), after}, limits, 0, quiet, waits);
  }
};

} // namespace

TEST_CASE("redis fanout: reads from the node's run, and when they must go to Redis", "[redis]") {
  LiveRun r;
  REQUIRE(r.read(1));
  CHECK(r.read(1)->messages.size() == 2);
  CHECK_FALSE(r.read(1, "F")); // another epoch
  // Quiet for longer than allowed: Redis must renew the keys' expiry.
  r.h.clock.advance(r.quiet + 1);
  CHECK_FALSE(r.read(1));
  r.h.fanout.answered("ch");
  CHECK(r.read(1));
  // This node's own publish of 4: a read that does not wait waits for its pub/sub copy; one
  // that waits gets 4 through its subscription anyway.
  r.h.fanout.published("ch", "E", 4);
  CHECK_FALSE(r.read(1));
  REQUIRE(r.read(1, "E", true));
  CHECK(r.read(1, "E", true)->messages.size() == 2);
  r.h.fanout.message(msg(4, "E"));
  REQUIRE(r.read(1));
  CHECK(r.read(1)->messages.size() == 3);
  // A delete this node sent: nothing from memory until it is confirmed.
  r.h.fanout.deleting("ch");
  CHECK_FALSE(r.read(1));
  r.h.fanout.deleteRefused("ch"); // Redis had nothing to delete; but the run was dropped
  CHECK_FALSE(r.read(1));
  r.h.fanout.message(msg(5, "E"));
  CHECK(r.read(4));
}

TEST_CASE("redis fanout: a catch-up that finds a new epoch drops the run", "[redis]") {
  LiveRun r;
  r.h.fanout.message(msg(5, "E")); // 4 skipped: a catch-up starts, the run restarts at 5
  CHECK(r.read(4));
  r.h.fanout.caughtUp("ch", history({1}, 1, "F")); // Redis lost the channel: epoch F
  CHECK_FALSE(r.read(4));
  CHECK_FALSE(r.read(0, "F")); // the run held E's messages only; F's come from Redis
  r.h.fanout.message(msg(2, "F"));
  CHECK(r.read(1, "F"));
}

TEST_CASE("redis fanout: a confirmed deletion and a lost link drop the run", "[redis]") {
  LiveRun r;
  r.h.fanout.deleting("ch");
  r.h.fanout.deleted("ch", "E");
  CHECK_FALSE(r.read(1));
  LiveRun s;
  s.h.fanout.linkLost();
  CHECK_FALSE(s.read(1));
  s.h.fanout.linkReady();
  s.h.fanout.subscribed("ch");
  CHECK_FALSE(s.read(1)); // live again, but the run starts over
}
