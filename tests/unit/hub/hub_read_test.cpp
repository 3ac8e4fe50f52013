// hub::Hub::read: new/oldest/last starts, cursor resume, gaps, batch limits, multi-channel merge.
#include <catch2/catch.hpp>

#include "support/hub_fixture.h"

#include <string>
#include <vector>

#include "hub/hub.h"

using namespace holdfast;
using hub::Gap;
using hub::Hub;
using hub::Limits;
using hub::MessagePtr;
using hub::Position;
using hub::ReadResult;
using hub::Start;

namespace {

struct Fixture : support::HubFixture {
  using HubFixture::HubFixture;

  void pub(std::string_view channel, int n = 1) {
    for (int i = 0; i < n; ++i)
      publishOk(channel);
  }
  ReadResult from(std::string_view channel, std::string epoch, uint64_t seq) {
    Position p{std::string(channel), std::move(epoch), seq};
    return hub.read({Start{p.channel, Start::Mode::kCursor, 0, p}});
  }
  ReadResult resume(const hub::Cursor& cursor) {
    std::vector<Start> starts;
    for (const Position& p : cursor)
      starts.push_back(Start{p.channel, Start::Mode::kCursor, 0, p});
    return hub.read(starts);
  }
};

Start start(std::string_view channel, Start::Mode mode, uint64_t last_n = 0) {
  return Start{std::string(channel), mode, last_n, {}};
}

// "a1 b2 ..." : channel and seq of each returned message.
std::string names(const ReadResult& r) {
  std::string out;
  for (const MessagePtr& m : r.messages)
    out += (out.empty() ? "" : " ") + m->channel + std::to_string(m->seq);
  return out;
}

std::vector<uint64_t> seqs(const ReadResult& r) {
  std::vector<uint64_t> out;
  for (const MessagePtr& m : r.messages)
    out.push_back(m->seq);
  return out;
}

std::vector<uint64_t> range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = first; s <= last; ++s)
    out.push_back(s);
  return out;
}

void checkGap(const Gap& g, std::string channel, std::string requested, std::string first,
              std::string reason) {
  CHECK(g.channel == channel);
  CHECK(g.requested == requested);
  CHECK(g.first_available == first);
  CHECK(g.reason == reason);
}

} // namespace

TEST_CASE("resume delivers exactly the missed messages after 100 publishes", "[hub][read]") {
  Fixture f;
  f.pub("c", 100);
  for (uint64_t seen = 0; seen <= 100; ++seen) {
    ReadResult r = f.from("c", "T1", seen);
    REQUIRE(seqs(r) == range(seen + 1, 100));
    CHECK(r.gaps.empty());
    CHECK_FALSE(r.more);
    CHECK(r.cursor == hub::Cursor{{"c", "T1", 100}});
  }
  // Resuming from the returned cursor yields only what came after it.
  ReadResult first = f.from("c", "T1", 42);
  f.pub("c", 5);
  ReadResult next = f.resume(first.cursor);
  CHECK(seqs(next) == range(101, 105));
  CHECK(next.cursor == hub::Cursor{{"c", "T1", 105}});
  CHECK(f.resume(next.cursor).messages.empty());
}

TEST_CASE("read without a cursor: new, oldest, last N", "[hub][read]") {
  Limits limits;
  limits.max_messages = 5;
  Fixture f(limits);
  f.pub("c", 8); // buffered: 4..8

  ReadResult r = f.hub.read({start("c", Start::Mode::kNew)});
  CHECK(r.messages.empty());
  CHECK(r.gaps.empty());
  CHECK(r.cursor == hub::Cursor{{"c", "T1", 8}});

  r = f.hub.read({start("c", Start::Mode::kOldest)});
  CHECK(seqs(r) == range(4, 8));
  CHECK(r.gaps.empty());
  CHECK(r.cursor == hub::Cursor{{"c", "T1", 8}});

  r = f.hub.read({start("c", Start::Mode::kLast, 2)});
  CHECK(seqs(r) == range(7, 8));
  r = f.hub.read({start("c", Start::Mode::kLast, 50)});
  CHECK(seqs(r) == range(4, 8));
  CHECK(r.gaps.empty());
  r = f.hub.read({start("c", Start::Mode::kLast, 0)});
  CHECK(r.messages.empty());
  CHECK(r.cursor == hub::Cursor{{"c", "T1", 8}});
}

TEST_CASE("read of an unknown channel creates it at seq 0", "[hub][read]") {
  Fixture f;
  ReadResult r = f.hub.read({start("new", Start::Mode::kOldest)});
  CHECK(r.messages.empty());
  CHECK(r.cursor == hub::Cursor{{"new", "T1", 0}});
  CHECK(f.hub.find("new"));
}

TEST_CASE("gap: the next message was evicted", "[hub][read][gap]") {
  Limits limits;
  limits.max_messages = 5;
  Fixture f(limits);
  f.pub("c", 10); // buffered: 6..10

  ReadResult r = f.from("c", "T1", 5); // the next one, 6, is still there: no gap
  CHECK(seqs(r) == range(6, 10));
  CHECK(r.gaps.empty());

  r = f.from("c", "T1", 4);
  CHECK(seqs(r) == range(6, 10));
  REQUIRE(r.gaps.size() == 1);
  checkGap(r.gaps[0], "c", "T1-5", "T1-6", "evicted");
  CHECK(r.cursor == hub::Cursor{{"c", "T1", 10}});

  r = f.from("c", "T1", 0);
  REQUIRE(r.gaps.size() == 1);
  checkGap(r.gaps[0], "c", "T1-1", "T1-6", "evicted");
}

TEST_CASE("gap: everything evicted leaves first_available empty", "[hub][read][gap]") {
  Limits limits;
  limits.max_age_ms = 100;
  Fixture f(limits);
  f.pub("c", 3);
  f.clock.advance(101); // read ages the channel itself; no sweep needed
  ReadResult r = f.from("c", "T1", 1);
  CHECK(r.messages.empty());
  REQUIRE(r.gaps.size() == 1);
  checkGap(r.gaps[0], "c", "T1-2", "", "evicted");
  CHECK(r.cursor == hub::Cursor{{"c", "T1", 3}});
  // Caught up: the same cursor now is no gap.
  CHECK(f.resume(r.cursor).gaps.empty());
}

TEST_CASE("gap: a different epoch delivers everything buffered", "[hub][read][gap]") {
  Fixture f;
  f.pub("c", 3);
  ReadResult r = f.from("c", "Old-x", 7);
  CHECK(seqs(r) == range(1, 3));
  REQUIRE(r.gaps.size() == 1);
  checkGap(r.gaps[0], "c", "Old-x-8", "T1-1", "epoch");
  CHECK(r.cursor == hub::Cursor{{"c", "T1", 3}});
}

TEST_CASE("gap: a deleted and recreated channel is a new epoch", "[hub][read][gap]") {
  Fixture f;
  f.pub("c", 3);
  REQUIRE(f.hub.deleteChannel("c"));
  ReadResult r = f.from("c", "T1", 2);
  CHECK(r.messages.empty());
  REQUIRE(r.gaps.size() == 1);
  checkGap(r.gaps[0], "c", "T1-3", "", "epoch");
  CHECK(r.cursor == hub::Cursor{{"c", "T2", 0}});
}

TEST_CASE("gap: a cursor from the future resumes from the oldest buffered message",
          "[hub][read][gap]") {
  // DESIGN.md §2: anything but "same epoch, next seq buffered" delivers from the oldest buffered
  // message and says so. A seq the channel never issued is such a case (reason "unknown").
  Limits limits;
  limits.max_messages = 5;
  Fixture f(limits);
  f.pub("c", 10); // buffered: 6..10
  ReadResult r = f.from("c", "T1", 50);
  CHECK(seqs(r) == range(6, 10));
  REQUIRE(r.gaps.size() == 1);
  checkGap(r.gaps[0], "c", "T1-51", "T1-6", "unknown");
  CHECK(r.cursor == hub::Cursor{{"c", "T1", 10}});
  f.pub("c");
  ReadResult next = f.resume(r.cursor);
  CHECK(seqs(next) == std::vector<uint64_t>{11});
  CHECK(next.gaps.empty());
  // The largest seq does not wrap around in the report.
  r = f.from("c", "T1", UINT64_MAX);
  REQUIRE(r.gaps.size() == 1);
  CHECK(r.gaps[0].requested == "T1-18446744073709551615");
  CHECK(seqs(r) == range(7, 11));
}

TEST_CASE("gap: a cursor from the future of an empty channel moves to the head",
          "[hub][read][gap]") {
  Limits limits;
  limits.max_age_ms = 100;
  Fixture f(limits);
  f.pub("c", 3);
  f.clock.advance(101); // everything aged out
  ReadResult r = f.from("c", "T1", 9);
  CHECK(r.messages.empty());
  REQUIRE(r.gaps.size() == 1);
  checkGap(r.gaps[0], "c", "T1-10", "", "unknown");
  CHECK(r.cursor == hub::Cursor{{"c", "T1", 3}});
}

// Every resume case of DESIGN.md §2 on one channel holding seqs 6..10 of epoch T1.
TEST_CASE("resume rules of DESIGN.md section 2, case by case", "[hub][read][gap]") {
  struct Case {
    const char* what;
    const char* epoch;
    uint64_t seq;
    uint64_t first, last; // expected delivered seqs (first > last: none)
    const char* reason;   // "" = no gap
    const char* requested;
  };
  const Case cases[] = {
      {"caught up", "T1", 10, 1, 0, "", ""},
      {"next still buffered", "T1", 5, 6, 10, "", ""},
      {"in the middle", "T1", 8, 9, 10, "", ""},
      {"next evicted", "T1", 4, 6, 10, "evicted", "T1-5"},
      {"never saw any", "T1", 0, 6, 10, "evicted", "T1-1"},
      {"ahead of the channel", "T1", 11, 6, 10, "unknown", "T1-12"},
      {"other epoch", "Zz", 3, 6, 10, "epoch", "Zz-4"},
      {"other epoch at 0", "Zz", 0, 6, 10, "epoch", "Zz-1"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Limits limits;
    limits.max_messages = 5;
    Fixture f(limits);
    f.pub("c", 10);
    ReadResult r = f.from("c", c.epoch, c.seq);
    CHECK(seqs(r) == (c.first > c.last ? std::vector<uint64_t>{} : range(c.first, c.last)));
    if (*c.reason == 0) {
      CHECK(r.gaps.empty());
    } else {
      REQUIRE(r.gaps.size() == 1);
      checkGap(r.gaps[0], "c", c.requested, "T1-6", c.reason);
    }
    CHECK(r.cursor == hub::Cursor{{"c", "T1", 10}});
    // No duplicates and nothing missed on the next resume.
    f.pub("c");
    ReadResult next = f.resume(r.cursor);
    CHECK(seqs(next) == std::vector<uint64_t>{11});
    CHECK(next.gaps.empty());
  }
}

TEST_CASE("batch_max cuts a backlog and the cursor points at the rest", "[hub][read]") {
  Limits limits;
  limits.batch_max = 4;
  Fixture f(limits);
  f.pub("c", 10);
  ReadResult r = f.from("c", "T1", 0);
  CHECK(seqs(r) == range(1, 4));
  CHECK(r.more);
  CHECK(r.cursor == hub::Cursor{{"c", "T1", 4}});
  r = f.resume(r.cursor);
  CHECK(seqs(r) == range(5, 8));
  CHECK(r.more);
  r = f.resume(r.cursor);
  CHECK(seqs(r) == range(9, 10));
  CHECK_FALSE(r.more);
  CHECK(r.cursor == hub::Cursor{{"c", "T1", 10}});
  // Exactly batch_max pending is not "more".
  f.pub("c", 4);
  r = f.resume(r.cursor);
  CHECK(seqs(r) == range(11, 14));
  CHECK_FALSE(r.more);
}

TEST_CASE("several channels merge in publish order", "[hub][read]") {
  Fixture f;
  f.pub("a"); // T1
  f.pub("b"); // T2
  f.pub("a");
  f.pub("c"); // T3
  f.pub("b");
  f.pub("a");
  ReadResult r = f.hub.read({start("c", Start::Mode::kOldest), start("a", Start::Mode::kOldest),
                             start("b", Start::Mode::kOldest)});
  CHECK(names(r) == "a1 b1 a2 c1 b2 a3");
  CHECK_FALSE(r.more);
  // One cursor entry per requested channel, in the order requested.
  CHECK(r.cursor == hub::Cursor{{"c", "T3", 1}, {"a", "T1", 3}, {"b", "T2", 2}});

  // Mixed starts: a from its cursor, b new only, c last 1.
  r = f.hub.read({Start{"a", Start::Mode::kCursor, 0, {"a", "T1", 1}},
                  start("b", Start::Mode::kNew), start("c", Start::Mode::kLast, 1)});
  CHECK(names(r) == "a2 c1 a3");
  CHECK(r.cursor == hub::Cursor{{"a", "T1", 3}, {"b", "T2", 2}, {"c", "T3", 1}});
}

TEST_CASE("a batch cut across channels keeps every channel's cursor exact", "[hub][read]") {
  Limits limits;
  limits.batch_max = 3;
  Fixture f(limits);
  f.pub("a");
  f.pub("b");
  f.pub("a");
  f.pub("c");
  f.pub("b");
  hub::Cursor zero{{"a", "T1", 0}, {"b", "T2", 0}, {"c", "T3", 0}, {"d", "Dd", 0}};
  ReadResult r = f.resume(zero);
  CHECK(names(r) == "a1 b1 a2");
  CHECK(r.more);
  // d was unknown: it is created with epoch T4, reported as a gap, and starts at its seq 0.
  REQUIRE(r.gaps.size() == 1);
  checkGap(r.gaps[0], "d", "Dd-1", "", "epoch");
  CHECK(r.cursor == hub::Cursor{{"a", "T1", 2}, {"b", "T2", 1}, {"c", "T3", 0}, {"d", "T4", 0}});
  r = f.resume(r.cursor);
  CHECK(names(r) == "c1 b2");
  CHECK_FALSE(r.more);
  CHECK(r.gaps.empty());
  CHECK(r.cursor == hub::Cursor{{"a", "T1", 2}, {"b", "T2", 2}, {"c", "T3", 1}, {"d", "T4", 0}});
}

TEST_CASE("a resumed multi-channel read has no duplicates and misses nothing", "[hub][read]") {
  Limits limits;
  limits.batch_max = 7;
  limits.max_messages = 1000;
  Fixture f(limits);
  hub::Cursor cursor{{"a", "T1", 0}, {"b", "T2", 0}, {"c", "T3", 0}};
  f.hub.read({start("a", Start::Mode::kNew), start("b", Start::Mode::kNew),
              start("c", Start::Mode::kNew)});
  std::vector<std::string> published, received;
  const char* order = "abcabbcaacbbbacc";
  for (int round = 0; round < 5; ++round) {
    for (const char* p = order; *p; ++p) {
      auto r = f.hub.publish(std::string(1, *p), "", "x", false);
      published.push_back(r.message->channel + std::to_string(r.message->seq));
    }
    ReadResult got = f.resume(cursor);
    for (const MessagePtr& m : got.messages)
      received.push_back(m->channel + std::to_string(m->seq));
    CHECK(got.gaps.empty());
    cursor = got.cursor;
  }
  for (ReadResult got = f.resume(cursor); !got.messages.empty(); got = f.resume(cursor)) {
    for (const MessagePtr& m : got.messages)
      received.push_back(m->channel + std::to_string(m->seq));
    cursor = got.cursor;
  }
  CHECK(received == published);
}
