// The link state machine: backoff with a cap, reset on success.
#include <catch2/catch.hpp>

#include "redis/reconnect.h"

using holdfast::redis::Reconnect;
using State = Reconnect::State;

TEST_CASE("redis reconnect: first attempt at once, then backoff doubling to the cap", "[redis]") {
  Reconnect r(100, 1000);
  CHECK(r.state() == State::kDisconnected);
  CHECK(r.due(0));
  r.attempting();
  CHECK(r.state() == State::kConnecting);
  CHECK_FALSE(r.due(0));
  CHECK_FALSE(r.lost(0)); // a failed attempt is not a lost ready link
  CHECK(r.nextAttemptMs() == 100);
  CHECK_FALSE(r.due(99));
  CHECK(r.due(100));
  int64_t now = 100;
  int64_t expected[] = {200, 400, 800, 1000, 1000};
  for (int64_t delay : expected) {
    r.attempting();
    r.lost(now);
    CHECK(r.nextAttemptMs() == now + delay);
    now += delay;
  }
}

TEST_CASE("redis reconnect: ready resets the delay and counts reconnects", "[redis]") {
  Reconnect r(100, 1000);
  r.attempting();
  r.lost(0);
  r.attempting();
  r.lost(100);
  r.attempting();
  r.connected();
  CHECK(r.ready());
  CHECK(r.reconnects() == 0);
  CHECK(r.lost(5000));
  CHECK(r.losses() == 1);
  CHECK(r.nextAttemptMs() == 5100);
  CHECK_FALSE(r.lost(5000)); // already disconnected: no change
  CHECK(r.nextAttemptMs() == 5100);
  r.attempting();
  r.connected();
  CHECK(r.reconnects() == 1);
  r.connected(); // ignored when not connecting
  CHECK(r.reconnects() == 1);
}
