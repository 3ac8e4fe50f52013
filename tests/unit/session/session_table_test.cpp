// session::SessionTable: ids, attach/detach of held requests, touch, erase and ttl expiry.
#include <catch2/catch.hpp>

#include <string>

#include "session/session_table.h"
#include "support/app_fixture.h"

using namespace holdfast;
using session::SessionTable;

namespace {

hub::Cursor at(const std::string& channel, uint64_t seq) {
  return {{channel, "E", seq}};
}

struct Table {
  util::FakeClock clock;
  support::PaddedRandom random;
  SessionTable table{clock, random, 60'000};
};

} // namespace

TEST_CASE("create issues distinct valid ids", "[session]") {
  Table t;
  std::string a = t.table.create();
  std::string b = t.table.create();
  CHECK(a != b);
  CHECK(SessionTable::isValidId(a));
  CHECK(t.table.size() == 2);
  CHECK(t.table.find(a) != nullptr);
  CHECK(t.table.find("nope") == nullptr);
  util::SecureRandom secure;
  SessionTable real(t.clock, secure, 1000);
  CHECK(SessionTable::isValidId(real.create()));
}

TEST_CASE("isValidId wants 22 base64url characters", "[session]") {
  CHECK(SessionTable::isValidId("AAAAAAAAAAAAAAAAAAAAA-"));
  CHECK(SessionTable::isValidId("abcdefghij_klmnopqrstu"));
  CHECK_FALSE(SessionTable::isValidId("AAAAAAAAAAAAAAAAAAAAA"));
  CHECK_FALSE(SessionTable::isValidId("AAAAAAAAAAAAAAAAAAAAAAA"));
  CHECK_FALSE(SessionTable::isValidId("AAAAAAAAAAAAAAAAAAAAA="));
  CHECK_FALSE(SessionTable::isValidId("AAAAAAAAAAAAAAAAAAAA/A"));
  CHECK_FALSE(SessionTable::isValidId(""));
}

TEST_CASE("attach returns the request it replaces", "[session]") {
  Table t;
  std::string id = t.table.create();
  CHECK_FALSE(t.table.attach(id, 1, 10));
  auto previous = t.table.attach(id, 2, 20);
  REQUIRE(previous);
  CHECK(previous->conn_id == 1);
  CHECK(previous->serial == 10);
  CHECK(t.table.find(id)->serial == 20);
  CHECK_FALSE(t.table.attach("unknown", 1, 1));
}

TEST_CASE("detach keeps the cursor and starts the ttl, unless another request attached",
          "[session]") {
  Table t;
  std::string id = t.table.create();
  t.table.attach(id, 1, 10);
  t.table.attach(id, 2, 20);
  t.table.detach(id, 10, at("a", 5)); // the superseded one: ignored
  CHECK(t.table.find(id)->serial == 20);
  CHECK(t.table.find(id)->cursor.empty());
  t.clock.advance(500);
  t.table.detach(id, 20, at("a", 7));
  session::Session* s = t.table.find(id);
  CHECK(s->serial == 0);
  CHECK(s->cursor == at("a", 7));
  CHECK(s->expires_ms == t.clock.nowMs() + 60'000);
}

TEST_CASE("touch remembers the cursor and with take_over detaches the held request", "[session]") {
  Table t;
  std::string id = t.table.create();
  t.table.attach(id, 1, 10);
  CHECK_FALSE(t.table.touch(id, at("a", 1), false));
  CHECK(t.table.find(id)->serial == 10);
  auto held = t.table.touch(id, at("a", 2), true);
  REQUIRE(held);
  CHECK(held->serial == 10);
  CHECK(t.table.find(id)->serial == 0);
  // The taken-over request's late detach cannot move the cursor back.
  t.table.detach(id, 10, at("a", 1));
  CHECK(t.table.find(id)->cursor == at("a", 2));
  CHECK_FALSE(t.table.touch(id, at("a", 3), true));
  CHECK_FALSE(t.table.touch("unknown", at("a", 3), true));
}

TEST_CASE("erase removes the session and returns its held request", "[session]") {
  Table t;
  std::string idle = t.table.create();
  std::string busy = t.table.create();
  t.table.attach(busy, 3, 30);
  CHECK_FALSE(t.table.erase(idle));
  auto held = t.table.erase(busy);
  REQUIRE(held);
  CHECK(held->conn_id == 3);
  CHECK(t.table.size() == 0);
  CHECK_FALSE(t.table.erase(busy));
  t.table.detach(busy, 30, at("a", 1)); // after erase: harmless
  CHECK(t.table.size() == 0);
}

TEST_CASE("expire drops detached sessions past their ttl, never attached ones", "[session]") {
  Table t;
  std::string fresh = t.table.create();
  std::string held = t.table.create();
  t.table.attach(held, 1, 10);
  t.clock.advance(59'999);
  CHECK(t.table.expire() == 0);
  t.clock.advance(1);
  CHECK(t.table.expire() == 1);
  CHECK(t.table.find(fresh) == nullptr);
  CHECK(t.table.find(held) != nullptr);
  t.clock.advance(1'000'000);
  CHECK(t.table.expire() == 0);
  t.table.detach(held, 10, at("a", 1));
  t.clock.advance(30'000);
  t.table.touch(held, at("a", 2), false); // restarts the ttl
  t.clock.advance(59'000);
  CHECK(t.table.expire() == 0);
  t.clock.advance(1'000);
  CHECK(t.table.expire() == 1);
  t.table.setTtl(5);
  std::string shortlived = t.table.create();
  t.clock.advance(5);
  CHECK(t.table.expire() == 1);
}
