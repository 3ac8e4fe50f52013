// A hub on a fake clock and counting random source (epochs "T1", "T2", ...), shared by the hub,
// store and engine tests.
#pragma once

#include <catch2/catch.hpp>

#include <string_view>

#include "hub/hub.h"
#include "util/clock.h"
#include "util/random.h"

namespace support {

struct HubFixture {
  explicit HubFixture(holdfast::hub::Limits limits = {}) : hub(limits, clock, random) {}
  holdfast::util::FakeClock clock;
  holdfast::util::CountingRandom random;
  holdfast::hub::Hub hub;

  // Publishes `data` as text; the test fails when the hub refuses it.
  holdfast::hub::PublishResult publishOk(std::string_view channel, std::string_view data = "x") {
    holdfast::hub::PublishResult r = hub.publish(channel, "", data, false);
    REQUIRE(r.status == holdfast::hub::PublishResult::Status::kOk);
    return r;
  }
};

} // namespace support
