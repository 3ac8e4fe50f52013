// The link state machine: backoff with a cap, reset on success.
#include <catch2/catch.hpp>

#include "redis/reconnect.h"

using holdfast::redis::Reconnect;
using State = Reconnect::State;

TEST_CASE("redis reconnect: first attempt at once, then backoff doubling to the cap", "[redis]") {
  holdfast::util::FakeClock clock(0);
  Reconnect r(clock, 100, 1000);
  CHECK(r.state() == State::kDisconnected);
  CHECK(r.due());
  r.attempting();
  CHECK(r.state() == State::kConnecting);
  CHECK_FALSE(r.due());
  CHECK_FALSE(r.lost()); // a failed attempt is not a lost ready link
  CHECK(r.nextAttemptMs() == 100);
  clock.advance(99);
  CHECK_FALSE(r.due());
  CHECK(r.waitMs() == 1);
  clock.advance(1);
  CHECK(r.due());
  int64_t expected[] = {200, 400, 800, 1000, 1000};
  for (int64_t delay : expected) {
    r.attempting();
    r.lost();
    CHECK(r.waitMs() == delay);
    clock.advance(delay);
  }
}

TEST_CASE("redis reconnect: ready resets the delay and counts reconnects", "[redis]") {
  holdfast::util::FakeClock clock(0);
  Reconnect r(clock, 100, 1000);
  r.attempting();
  r.lost();
  r.attempting();
  r.lost();
  r.attempting();
  r.connected();
  CHECK(r.ready());
  CHECK(r.reconnects() == 0);
  clock.advance(5000);
  CHECK(r.lost());
  CHECK(r.losses() == 1);
  CHECK(r.nextAttemptMs() == 5100);
  CHECK_FALSE(r.lost()); // already disconnected: no change
  CHECK(r.nextAttemptMs() == 5100);
  r.attempting();
  r.connected();
  CHECK(r.reconnects() == 1);
  r.connected(); // ignored when not connecting
  CHECK(r.reconnects() == 1);
}
