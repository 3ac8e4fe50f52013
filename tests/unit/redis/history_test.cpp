// Merging per-channel reads: the memory engine's resume and gap rules.
#include <catch2/catch.hpp>

#include "redis/history.h"

using namespace holdfast;
using redis::ChannelRead;

namespace {

ChannelRead channel(std::string name, std::string epoch, uint64_t first, uint64_t last,
                    uint64_t from, int64_t t0 = 0, uint64_t count = UINT64_MAX) {
  ChannelRead r{std::move(epoch), last, first, from, false, {}};
  for (uint64_t s = from; s <= last && r.messages.size() < count; ++s)
    r.messages.push_back(hub::makeMessage(name, r.epoch, s, "message", "1", true,
                                          t0 + static_cast<int64_t>(s) * 10));
  return r;
}

hub::Start cursor(std::string ch, std::string epoch, uint64_t seq) {
  hub::Start s;
  s.channel = ch;
  s.mode = hub::Start::Mode::kCursor;
  s.position = {ch, std::move(epoch), seq};
  return s;
}

hub::Start fresh(std::string ch) {
  hub::Start s;
  s.channel = std::move(ch);
  return s;
}

} // namespace

TEST_CASE("redis history: exact resume, no gap", "[redis]") {
  auto r = redis::assemble({cursor("a", "E", 3)}, {channel("a", "E", 1, 5, 4)}, 100);
  CHECK(r.gaps.empty());
  REQUIRE(r.messages.size() == 2);
  CHECK(r.messages[0]->seq == 4);
  CHECK(r.cursor == hub::Cursor{{"a", "E", 5}});
  CHECK_FALSE(r.more);
}

TEST_CASE("redis history: gaps as the hub reports them", "[redis]") {
  auto epoch = redis::assemble({cursor("a", "OLD", 3)}, {channel("a", "E", 2, 4, 2)}, 100);
  REQUIRE(epoch.gaps.size() == 1);
  CHECK(epoch.gaps[0].reason == "epoch");
  CHECK(epoch.gaps[0].requested == "OLD-4");
  CHECK(epoch.gaps[0].first_available == "E-2");
  CHECK(epoch.messages.size() == 3);
  auto evicted = redis::assemble({cursor("a", "E", 1)}, {channel("a", "E", 5, 6, 5)}, 100);
  REQUIRE(evicted.gaps.size() == 1);
  CHECK(evicted.gaps[0].reason == "evicted");
  CHECK(evicted.gaps[0].first_available == "E-5");
  auto future = redis::assemble({cursor("a", "E", 9)}, {channel("a", "E", 5, 6, 7)}, 100);
  REQUIRE(future.gaps.size() == 1);
  CHECK(future.gaps[0].reason == "unknown");
  CHECK(future.gaps[0].first_available.empty());
  CHECK(future.messages.empty());
  CHECK(future.cursor == hub::Cursor{{"a", "E", 6}});
  auto empty = redis::assemble({cursor("a", "OLD", 0)}, {channel("a", "E", 1, 0, 1)}, 100);
  REQUIRE(empty.gaps.size() == 1);
  CHECK(empty.gaps[0].first_available.empty());
  CHECK(empty.cursor == hub::Cursor{{"a", "E", 0}});
}

TEST_CASE("redis history: new-only reads start at the head", "[redis]") {
  auto r = redis::assemble({fresh("a")}, {channel("a", "E", 1, 7, 8)}, 100);
  CHECK(r.messages.empty());
  CHECK(r.gaps.empty());
  CHECK(r.cursor == hub::Cursor{{"a", "E", 7}});
  CHECK_FALSE(r.more);
}

TEST_CASE("redis history: merge by time and cut at batch_max", "[redis]") {
  // a: seqs 1..3 at 10,20,30; b: seqs 1..3 at 15,25,35.
  auto r = redis::assemble({cursor("a", "A", 0), cursor("b", "B", 0)},
                           {channel("a", "A", 1, 3, 1), channel("b", "B", 1, 3, 1, 5)}, 4);
  REQUIRE(r.messages.size() == 4);
  CHECK(r.messages[0]->channel == "a");
  CHECK(r.messages[1]->channel == "b");
  CHECK(r.messages[2]->channel == "a");
  CHECK(r.messages[3]->channel == "b");
  CHECK(r.cursor == hub::Cursor{{"a", "A", 2}, {"b", "B", 2}});
  CHECK(r.more);
  // The script capped a channel's entries (COUNT): more is still reported.
  auto capped = redis::assemble({cursor("a", "A", 0)}, {channel("a", "A", 1, 9, 1, 0, 2)}, 100);
  CHECK(capped.messages.size() == 2);
  CHECK(capped.cursor == hub::Cursor{{"a", "A", 2}});
  CHECK(capped.more);
}
