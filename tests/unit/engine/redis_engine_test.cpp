// The Redis engine over fake links: what it sends, and what it makes of the replies.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>

#include "../redis/reply_builder.h"
#include "engine/redis_engine.h"
#include "redis/keys.h"
#include "redis/scripts.h"
#include "util/log.h"

using namespace holdfast;
using redis::test::entry;
using redis::test::Node;

namespace {

// Records commands; the test answers them in order with reply().
class FakeLink final : public redis::Link {
public:
  struct Sent {
    std::vector<std::string> args;
    Reply done;
  };
  Hooks hooks;
  bool up = false;
  std::deque<Sent> sent;
  std::vector<std::string> subscribed;
  std::vector<std::string> unsubscribed;

  void setHooks(Hooks h) override { hooks = std::move(h); }
  void start() override {}
  bool ready() const override { return up; }
  void command(const std::vector<std::string>& args, Reply done) override {
    if (!up)
      return done(nullptr);
    sent.push_back({args, std::move(done)});
  }
  void subscribe(const std::string& ch) override { subscribed.push_back(ch); }
  void unsubscribe(const std::string& ch) override { unsubscribed.push_back(ch); }
  void drop() override { lose(); }
  uint64_t reconnects() const override { return 0; }

  void connect() {
    up = true;
    if (hooks.ready)
      hooks.ready();
  }
  // Fails every pending command, as hiredis does on a lost connection.
  void lose() {
    up = false;
    while (!sent.empty()) {
      Sent s = std::move(sent.front());
      sent.pop_front();
      s.done(nullptr);
    }
    if (hooks.lost)
      hooks.lost();
  }
  // Drops commands the test does not look at (SCRIPT LOAD, ZADD, PING, EXISTS...).
  void skip(std::string_view name) {
    while (!sent.empty() && sent.front().args[0] == name)
      sent.pop_front();
  }
  void reply(Node node) {
    REQUIRE_FALSE(sent.empty());
    Sent s = std::move(sent.front());
    sent.pop_front();
    s.done(node.get());
  }
};

struct Recorder final : hub::Subscriber {
  std::vector<std::string> ids;
  bool deliver(const hub::MessagePtr& m) override {
    ids.push_back(m->id());
    return true;
  }
  void channelDeleted(const std::string&) override {}
};

struct Rig {
  FakeLink commands, pubsub;
  util::FakeClock clock;
  util::CountingRandom random;
  engine::RedisEngine engine{commands, pubsub, hub::Limits{}, clock, random};
  Rig() {
    util::setLogLevel(util::LogLevel::kError); // the engine logs each loss and recovery
    engine.start();
    commands.connect();
    commands.skip("SCRIPT");
    pubsub.connect();
  }
};

Node publishReply(long long seq, long long receivers) {
  return Node::array({Node::str("EP"), Node::integer(seq), Node::integer(receivers),
                      Node::integer(seq == 1), Node::integer(0)});
}

Node readReply(long long last, long long first, long long from, std::vector<Node> entries) {
  return Node::array({Node::str("EP"), Node::integer(last), Node::integer(first),
                      Node::integer(from), Node::integer(0), Node::array(std::move(entries))});
}

engine::PublishOutcome publishOne(Rig& rig, Node reply) {
  engine::PublishOutcome out;
  out.status = engine::PublishOutcome::Status::kTooLarge; // overwritten by done
  rig.engine.publish({engine::PublishItem{"ch", "message", "{}", true}},
                     [&](engine::PublishOutcome o) { out = std::move(o); });
  rig.commands.skip("ZADD");
  REQUIRE(rig.commands.sent.front().args[0] == "EVALSHA");
  rig.commands.reply(std::move(reply));
  return out;
}

} // namespace

TEST_CASE("redis engine: publish is one EVALSHA; receivers decide 201/202", "[redis]") {
  Rig rig;
  auto out = publishOne(rig, publishReply(1, 2));
  REQUIRE(out.status == engine::PublishOutcome::Status::kOk);
  REQUIRE(out.results.size() == 1);
  CHECK(out.results[0].id == "EP-1");
  CHECK(out.results[0].subscribers == 2);
  CHECK(rig.engine.stats().published == 1);
}

TEST_CASE("redis engine: NOSCRIPT is retried once with EVAL", "[redis]") {
  Rig rig;
  engine::PublishOutcome out;
  rig.engine.publish({engine::PublishItem{"ch", "message", "1", true}},
                     [&](engine::PublishOutcome o) { out = std::move(o); });
  rig.commands.skip("ZADD");
  rig.commands.reply(Node::error("NOSCRIPT No matching script. Please use EVAL."));
  REQUIRE(rig.commands.sent.size() == 1);
  CHECK(rig.commands.sent.front().args[0] == "EVAL");
  CHECK(rig.commands.sent.front().args[1] == redis::publishScript().body);
  rig.commands.reply(publishReply(4, 0));
  CHECK(out.status == engine::PublishOutcome::Status::kOk);
  CHECK(out.results[0].id == "EP-4");
}

TEST_CASE("redis engine: unreachable or failing Redis answers unavailable", "[redis]") {
  Rig rig;
  auto bad = publishOne(rig, Node::error("ERR something"));
  CHECK(bad.status == engine::PublishOutcome::Status::kUnavailable);
  auto malformed = publishOne(rig, Node::str("?"));
  CHECK(malformed.status == engine::PublishOutcome::Status::kUnavailable);
  rig.commands.lose();
  engine::PublishOutcome down;
  rig.engine.publish({engine::PublishItem{"ch", "message", "1", true}},
                     [&](engine::PublishOutcome o) { down = std::move(o); });
  CHECK(down.status == engine::PublishOutcome::Status::kUnavailable);
  hub::ReadResult read;
  hub::Start start;
  start.channel = "ch";
  rig.engine.read({start}, [&](hub::ReadResult r) { read = std::move(r); });
  CHECK(read.unavailable);
  CHECK_FALSE(rig.engine.stats().storage->connected);
}

TEST_CASE("redis engine: a publish in flight when the link drops is unavailable", "[redis]") {
  Rig rig;
  engine::PublishOutcome out;
  rig.engine.publish({engine::PublishItem{"ch", "message", "1", true}},
                     [&](engine::PublishOutcome o) { out = std::move(o); });
  rig.commands.lose();
  CHECK(out.status == engine::PublishOutcome::Status::kUnavailable);
}

TEST_CASE("redis engine: too large items are refused before anything is sent", "[redis]") {
  Rig rig;
  hub::Limits small;
  small.max_bytes = 200;
  rig.engine.setLimits(small);
  engine::PublishOutcome out;
  rig.engine.publish({engine::PublishItem{"ch", "message", std::string(500, 'x'), false}},
                     [&](engine::PublishOutcome o) { out = std::move(o); });
  CHECK(out.status == engine::PublishOutcome::Status::kTooLarge);
  CHECK(rig.commands.sent.empty());
}

TEST_CASE("redis engine: subscribe, catch-up on confirmation, live fan-out", "[redis]") {
  Rig rig;
  Recorder sub;
  rig.engine.subscribe(sub, {{"ch", "EP", 1}});
  REQUIRE(rig.pubsub.subscribed == std::vector<std::string>{"holdfast:{ch}:pub"});
  // Seq 2 was published between the subscriber's read and the SUBSCRIBE.
  rig.pubsub.hooks.subscribed("holdfast:{ch}:pub");
  REQUIRE(rig.commands.sent.size() == 1);
  CHECK(rig.commands.sent.front().args[6] == "after");
  CHECK(rig.commands.sent.front().args[7] == "1");
  rig.commands.reply(readReply(2, 1, 2, {entry(2, "2")}));
  CHECK(sub.ids == std::vector<std::string>{"EP-2"});
  rig.pubsub.hooks.message("holdfast:{ch}:pub", "M\nEP\n2\nmessage\n1\n1\n2"); // duplicate
  rig.pubsub.hooks.message("holdfast:{ch}:pub", "M\nEP\n3\nmessage\n1\n1\n3");
  rig.pubsub.hooks.message("holdfast:{ch}:pub", "garbage");
  CHECK(sub.ids == std::vector<std::string>{"EP-2", "EP-3"});
  rig.engine.unsubscribeAll(sub);
  CHECK(rig.pubsub.unsubscribed.empty()); // lingers (redis::Fanout::kLingerMs)
  rig.clock.advance(redis::Fanout::kLingerMs);
  rig.engine.sweep();
  CHECK(rig.pubsub.unsubscribed == std::vector<std::string>{"holdfast:{ch}:pub"});
}

TEST_CASE("redis engine: held subscribers catch up after the links come back", "[redis]") {
  Rig rig;
  Recorder sub;
  rig.engine.subscribe(sub, {{"ch", "EP", 5}});
  rig.pubsub.hooks.subscribed("holdfast:{ch}:pub");
  rig.commands.reply(readReply(5, 1, 6, {}));
  rig.pubsub.lose();
  rig.commands.lose();
  rig.commands.connect();
  rig.commands.skip("SCRIPT");
  rig.pubsub.connect();
  CHECK(rig.pubsub.subscribed.size() == 2);
  rig.pubsub.hooks.subscribed("holdfast:{ch}:pub");
  rig.commands.reply(readReply(7, 1, 6, {entry(6, "6"), entry(7, "7")}));
  CHECK(sub.ids == std::vector<std::string>{"EP-6", "EP-7"});
}

TEST_CASE("redis engine: reads merge channels and report gaps", "[redis]") {
  Rig rig;
  hub::Start s;
  s.channel = "ch";
  s.mode = hub::Start::Mode::kCursor;
  s.position = {"ch", "OLD", 3};
  hub::ReadResult got;
  rig.engine.read({s}, [&](hub::ReadResult r) { got = std::move(r); });
  rig.commands.reply(readReply(2, 1, 1, {entry(1, "1"), entry(2, "2")}));
  REQUIRE(got.gaps.size() == 1);
  CHECK(got.gaps[0].reason == "epoch");
  CHECK(got.messages.size() == 2);
  CHECK(hub::formatCursor(got.cursor) == "ch:EP-2");
}

TEST_CASE("redis engine: a cursor read the node holds in memory skips Redis", "[redis]") {
  Rig rig;
  Recorder sub;
  rig.engine.subscribe(sub, {{"ch", "EP", 1}});
  rig.pubsub.hooks.subscribed("holdfast:{ch}:pub");
  rig.commands.reply(readReply(1, 1, 2, {})); // the catch-up: nothing after 1
  std::string now = std::to_string(rig.clock.wallMs());
  for (std::string seq : {"2", "3"}) // M, epoch, seq, event, time, JSON flag, data
    rig.pubsub.hooks.message("holdfast:{ch}:pub",
                             "M\nEP\n" + seq + "\nmessage\n" + now + "\n1\n" + seq);
  REQUIRE(sub.ids == std::vector<std::string>{"EP-2", "EP-3"});
  std::deque<hub::ReadResult> answers; // outlives every read's callback
  auto cursorRead = [&](uint64_t seq, bool waits = false) -> const hub::ReadResult* {
    hub::Start s;
    s.channel = "ch";
    s.mode = hub::Start::Mode::kCursor;
    s.position = {"ch", "EP", seq};
    s.waits = waits;
    size_t before = answers.size();
    rig.engine.read({s}, [&](hub::ReadResult r) { answers.push_back(std::move(r)); });
    return answers.size() > before ? &answers.back() : nullptr;
  };
  auto got = cursorRead(2); // answered at once, nothing sent
  REQUIRE(got);
  CHECK(rig.commands.sent.empty());
  REQUIRE(got->messages.size() == 1);
  CHECK(got->messages[0]->id() == "EP-3");
  CHECK(hub::formatCursor(got->cursor) == "ch:EP-3");
  CHECK(got->gaps.empty());
  CHECK_FALSE(cursorRead(3)); // caught up: Redis may hold a message pub/sub has not brought
  REQUIRE(rig.commands.sent.size() == 1);
  rig.commands.reply(readReply(3, 1, 4, {}));
  got = cursorRead(3, true); // but a request that then waits is answered "nothing new" at once
  REQUIRE(got);
  CHECK(got->messages.empty());
  CHECK(hub::formatCursor(got->cursor) == "ch:EP-3");
  CHECK(rig.commands.sent.empty());
  CHECK_FALSE(cursorRead(0)); // 1 is not in the node's run
  rig.commands.reply(readReply(3, 1, 1, {entry(1, "1"), entry(2, "2"), entry(3, "3")}));
  auto stats = rig.engine.stats();
  REQUIRE(stats.storage);
  CHECK(stats.storage->reads_from_memory == 2);
  CHECK(stats.storage->reads_from_storage == 3); // the catch-up and the two reads
  rig.pubsub.drop();                             // pub/sub lost: nothing is answered from memory
  CHECK_FALSE(cursorRead(2));
}

namespace {

// A rig whose node is subscribed to "ch" with pub/sub having brought EP-1..EP-3.
struct LiveRig : Rig {
  Recorder sub;
  LiveRig() {
    engine.subscribe(sub, {{"ch", "EP", 0}});
    pubsub.hooks.subscribed("holdfast:{ch}:pub");
    commands.reply(readReply(0, 1, 1, {}));
    std::string now = std::to_string(clock.wallMs());
    for (std::string seq : {"1", "2", "3"})
      pubsub.hooks.message("holdfast:{ch}:pub",
                           "M\nEP\n" + seq + "\nmessage\n" + now + "\n1\n" + seq);
  }
  static hub::Start after(std::string channel, uint64_t seq) {
    hub::Start s;
    s.channel = channel;
    s.mode = hub::Start::Mode::kCursor;
    s.position = {std::move(channel), "EP", seq};
    return s;
  }
};

} // namespace

TEST_CASE("redis engine: answers from memory keep the order of the calls", "[redis]") {
  LiveRig rig;
  std::vector<std::string> log;
  // A read of another channel goes to Redis first; the memory answer made after it waits.
  rig.engine.read({LiveRig::after("other", 0)}, [&](hub::ReadResult) { log.push_back("other"); });
  rig.engine.read({LiveRig::after("ch", 1)}, [&](hub::ReadResult r) {
    log.push_back("ch");
    CHECK(r.messages.size() == 2);
  });
  CHECK(log.empty());
  rig.commands.reply(readReply(0, 1, 1, {}));
  CHECK(log == std::vector<std::string>{"other", "ch"});
}

TEST_CASE("redis engine: an answer from memory is read again in its turn", "[redis]") {
  LiveRig rig;
  // A publish is in flight; a waiting read at the head is found "nothing new" and waits for it.
  std::optional<engine::PublishOutcome> published;
  rig.engine.publish({engine::PublishItem{"ch", "message", "4", true}},
                     [&](engine::PublishOutcome o) { published = std::move(o); });
  rig.commands.skip("ZADD");
  hub::Start head = LiveRig::after("ch", 3);
  head.waits = true;
  std::optional<hub::ReadResult> got;
  rig.engine.read({head}, [&](hub::ReadResult r) { got = std::move(r); });
  CHECK_FALSE(got);
  // Pub/sub brings the message before the publish's reply: the read, answered after the
  // publish, has it (else the subscriber would start behind the node and catch up from Redis).
  std::string now = std::to_string(rig.clock.wallMs());
  rig.pubsub.hooks.message("holdfast:{ch}:pub", "M\nEP\n4\nmessage\n" + now + "\n1\n4");
  rig.commands.reply(publishReply(4, 1));
  REQUIRE(published);
  REQUIRE(got);
  REQUIRE(got->messages.size() == 1);
  CHECK(got->messages[0]->id() == "EP-4");
  CHECK(hub::formatCursor(got->cursor) == "ch:EP-4");
  CHECK(rig.commands.sent.empty());
}

TEST_CASE("redis engine: one read mixing channels from memory and from Redis", "[redis]") {
  LiveRig rig;
  std::optional<hub::ReadResult> got;
  rig.engine.read({LiveRig::after("ch", 2), LiveRig::after("other", 0)},
                  [&](hub::ReadResult r) { got = std::move(r); });
  REQUIRE(rig.commands.sent.size() == 1); // only "other" is asked of Redis
  CHECK(rig.commands.sent.front().args[3] == "holdfast:{other}:meta");
  rig.commands.reply(readReply(1, 1, 1, {entry(1, "x")}));
  REQUIRE(got);
  CHECK(got->messages.size() == 2);
  CHECK(hub::formatCursor(got->cursor) == "ch:EP-3,other:EP-1");
  CHECK(got->gaps.empty());
}

TEST_CASE("redis engine: no answer from memory during this node's delete or publish", "[redis]") {
  LiveRig rig;
  std::vector<hub::ReadResult> got;
  auto read = [&] {
    size_t before = got.size();
    rig.engine.read({LiveRig::after("ch", 2)}, [&](hub::ReadResult r) { got.push_back(r); });
    return got.size() > before;
  };
  CHECK(read());
  rig.engine.remove("ch", [](engine::RemoveOutcome) {});
  CHECK_FALSE(read());                  // asked of Redis, behind the delete
  rig.commands.reply(Node::integer(1)); // deleted (a ZREM of the list follows the read)
  rig.commands.reply(readReply(0, 1, 1, {}));
  rig.pubsub.hooks.message("holdfast:{ch}:pub", "D\nEP");
  CHECK(rig.sub.ids.size() == 3);
  // This node's publish of 4: until its pub/sub copy arrives, reads ask Redis.
  LiveRig again;
  publishOne(again, publishReply(4, 1));
  std::vector<hub::ReadResult> more;
  again.engine.read({LiveRig::after("ch", 2)}, [&](hub::ReadResult r) { more.push_back(r); });
  CHECK(more.empty());
  CHECK(again.commands.sent.size() == 1);
}

TEST_CASE("redis engine: a pub/sub link that brings no echo back is dropped", "[redis]") {
  Rig rig;
  rig.engine.listen("holdfast:node:{n1}:ctl", [](std::string_view) {});
  auto sweep = [&] { // answers the sweep's PING and PUBLISH (commands link healthy)
    rig.engine.sweep();
    std::vector<std::vector<std::string>> sent;
    while (!rig.commands.sent.empty()) {
      sent.push_back(rig.commands.sent.front().args);
      rig.commands.reply(Node::str("PONG"));
    }
    return sent;
  };
  const std::vector<std::string> echo{"PUBLISH", "holdfast:node:{n1}:ctl", "E"};
  auto sent = sweep(); // the node's channel is not subscribed yet: no echo could come back
  CHECK(std::find(sent.begin(), sent.end(), echo) == sent.end());
  rig.pubsub.hooks.subscribed("holdfast:node:{n1}:ctl");
  sent = sweep();
  CHECK(std::find(sent.begin(), sent.end(), echo) != sent.end());
  rig.pubsub.hooks.message("holdfast:node:{n1}:ctl", "E");
  rig.clock.advance(4000);
  sweep();
  CHECK(rig.pubsub.ready());
  rig.clock.advance(2000); // 6 s since the echo: overdue once (the loop may have stalled)
  sweep();
  CHECK(rig.pubsub.ready());
  rig.clock.advance(1000); // still overdue at the next sweep
  sweep();
  CHECK_FALSE(rig.pubsub.ready());
}

TEST_CASE("redis engine: the echo wait starts afresh while no echo can be sent", "[redis]") {
  Rig rig;
  rig.engine.listen("holdfast:node:{n1}:ctl", [](std::string_view) {});
  rig.pubsub.hooks.subscribed("holdfast:node:{n1}:ctl");
  auto sweep = [&] {
    rig.engine.sweep();
    while (!rig.commands.sent.empty())
      rig.commands.reply(Node::str("PONG"));
  };
  rig.clock.advance(6000); // overdue once
  sweep();
  REQUIRE(rig.pubsub.ready());
  rig.commands.lose(); // the commands link is down: the silence says nothing of pub/sub
  rig.clock.advance(1000);
  sweep();
  rig.commands.connect();
  rig.commands.skip("SCRIPT");
  rig.clock.advance(5500); // overdue again, but only once since the wait restarted
  sweep();
  CHECK(rig.pubsub.ready());
  rig.clock.advance(1000);
  sweep();
  CHECK_FALSE(rig.pubsub.ready());
}

TEST_CASE("redis engine: a publish of no items completes", "[redis]") {
  Rig rig;
  std::vector<std::string> log;
  rig.engine.publish({}, [&](engine::PublishOutcome o) {
    CHECK(o.results.empty());
    log.push_back("empty");
  });
  hub::Start s;
  s.channel = "x";
  rig.engine.read({s}, [&](hub::ReadResult) { log.push_back("read"); });
  rig.commands.reply(readReply(0, 1, 1, {}));
  CHECK(log == std::vector<std::string>{"empty", "read"}); // and does not hold up later calls
}
