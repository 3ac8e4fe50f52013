// The node's run of recent messages: contiguous, bounded, and answering a read only when the
// read script would give the same messages.
#include <catch2/catch.hpp>

#include "redis/recent.h"

using namespace holdfast;

namespace {

constexpr int64_t kNow = 1'700'000'000'000;

hub::MessagePtr msg(uint64_t seq, std::string epoch = "E", int64_t time_ms = kNow,
                    std::string data = "1") {
  return hub::makeMessage("ch", std::move(epoch), seq, "message", data, true, time_ms);
}

std::vector<uint64_t> seqs(const redis::ChannelRead& r) {
  std::vector<uint64_t> out;
  for (const auto& m : r.messages)
    out.push_back(m->seq);
  return out;
}

} // namespace

TEST_CASE("redis recent: answers a cursor inside the run up to the head", "[redis]") {
  redis::Recent recent;
  hub::Limits limits;
  for (uint64_t s = 5; s <= 8; ++s)
    recent.push(msg(s));
  auto r = recent.readAfter({"ch", "E", 6}, 8, limits, kNow);
  REQUIRE(r);
  CHECK(seqs(*r) == std::vector<uint64_t>{7, 8});
  CHECK(r->epoch == "E");
  CHECK(r->last == 8);
  CHECK(r->from == 7);
  CHECK(r->first == 5);
  CHECK_FALSE(r->created);
  REQUIRE(recent.readAfter({"ch", "E", 4}, 8, limits, kNow)); // just before the run
  CHECK(seqs(*recent.readAfter({"ch", "E", 4}, 8, limits, kNow)).size() == 4);
  REQUIRE(recent.readAfter({"ch", "E", 8}, 8, limits, kNow)); // at the head: nothing new
  CHECK(recent.readAfter({"ch", "E", 8}, 8, limits, kNow)->messages.empty());
}

TEST_CASE("redis recent: asks Redis whenever the run cannot be sure", "[redis]") {
  redis::Recent recent;
  hub::Limits limits;
  CHECK_FALSE(recent.readAfter({"ch", "E", 0}, 0, limits, kNow)); // empty run
  for (uint64_t s = 5; s <= 8; ++s)
    recent.push(msg(s));
  CHECK_FALSE(recent.readAfter({"ch", "E", 3}, 8, limits, kNow));   // 4 not in the run
  CHECK_FALSE(recent.readAfter({"ch", "E", 9}, 8, limits, kNow));   // beyond the head
  CHECK_FALSE(recent.readAfter({"ch", "OLD", 6}, 8, limits, kNow)); // another epoch
  CHECK_FALSE(recent.readAfter({"ch", "E", 6}, 9, limits, kNow));   // head moved past the run
  limits.max_messages = 2;
  CHECK(recent.readAfter({"ch", "E", 6}, 8, limits, kNow));       // 7, 8: within the count
  CHECK_FALSE(recent.readAfter({"ch", "E", 5}, 8, limits, kNow)); // 6 evicted by count
  limits = hub::Limits{};
  limits.max_age_ms = 1000;
  CHECK_FALSE(recent.readAfter({"ch", "E", 6}, 8, limits, kNow + 1001)); // 7 too old
  limits = hub::Limits{};
  limits.max_bytes = msg(7)->cost(); // 7 and 8 together do not fit
  CHECK_FALSE(recent.readAfter({"ch", "E", 6}, 8, limits, kNow));
  CHECK(recent.readAfter({"ch", "E", 7}, 8, limits, kNow));
}

TEST_CASE("redis recent: a skipped seq or a new epoch restarts the run", "[redis]") {
  redis::Recent recent;
  hub::Limits limits;
  recent.push(msg(1));
  recent.push(msg(2));
  recent.push(msg(4)); // 3 never came
  CHECK(recent.size() == 1);
  CHECK_FALSE(recent.readAfter({"ch", "E", 2}, 4, limits, kNow));
  CHECK(recent.readAfter({"ch", "E", 3}, 4, limits, kNow));
  recent.push(msg(1, "F"));
  CHECK(recent.size() == 1);
  CHECK_FALSE(recent.readAfter({"ch", "E", 3}, 1, limits, kNow));
  CHECK(recent.readAfter({"ch", "F", 0}, 1, limits, kNow));
  recent.clear();
  CHECK(recent.size() == 0);
  CHECK_FALSE(recent.readAfter({"ch", "F", 0}, 1, limits, kNow));
}

TEST_CASE("redis recent: bounded by count and bytes", "[redis]") {
  redis::Recent recent;
  hub::Limits limits;
  for (uint64_t s = 1; s <= redis::Recent::kMaxMessages + 10; ++s)
    recent.push(msg(s));
  CHECK(recent.size() == redis::Recent::kMaxMessages);
  CHECK_FALSE(recent.readAfter({"ch", "E", 9}, redis::Recent::kMaxMessages + 10, limits, kNow));
  CHECK(recent.readAfter({"ch", "E", 10}, redis::Recent::kMaxMessages + 10, limits, kNow));
  std::string big(redis::Recent::kMaxBytes / 2, 'x');
  recent.clear();
  for (uint64_t s = 1; s <= 3; ++s)
    recent.push(msg(s, "E", kNow, "\"" + big + "\""));
  CHECK(recent.size() == 1); // each is over a third of the budget: only the newest stays
  recent.push(msg(4, "E", kNow, "\"" + big + big + big + "\""));
  CHECK(recent.size() == 1); // one message over the budget is still kept (it is the head)
}
