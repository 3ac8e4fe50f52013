// In-order completion: answers released in call order, whatever order they arrive in.
#include <catch2/catch.hpp>

#include <string>

#include "engine/in_order.h"

using holdfast::engine::InOrder;

TEST_CASE("in order: a later answer waits for the earlier calls", "[engine]") {
  InOrder order;
  std::string log;
  auto a = order.open();
  auto b = order.open();
  auto c = order.open();
  order.complete(c, [&] { log += "c"; });
  order.complete(b, [&] { log += "b"; });
  CHECK(log.empty());
  CHECK(order.pending() == 3);
  order.complete(a, [&] { log += "a"; });
  CHECK(log == "abc");
  CHECK(order.pending() == 0);
  auto d = order.open();
  order.complete(d, [&] { log += "d"; }); // nothing before it: at once
  CHECK(log == "abcd");
}

TEST_CASE("in order: a released answer may make and answer further calls", "[engine]") {
  InOrder order;
  std::string log;
  auto a = order.open();
  auto b = order.open();
  order.complete(b, [&] { log += "b"; });
  order.complete(a, [&] {
    log += "a";
    auto inner = order.open(); // after b: runs once b has
    order.complete(inner, [&] { log += "i"; });
    CHECK(log == "a");
  });
  CHECK(log == "abi");
}
