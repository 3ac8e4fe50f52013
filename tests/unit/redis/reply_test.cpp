// Script replies -> engine values; malformed replies are errors.
#include <catch2/catch.hpp>

#include "redis/reply.h"
#include "reply_builder.h"

using namespace holdfast::redis;
using test::entry;
using test::Node;

TEST_CASE("redis reply: publish", "[redis]") {
  std::string error;
  Node ok = Node::array({Node::str("AbCd1234"), Node::integer(7), Node::integer(2),
                         Node::integer(1), Node::integer(3)});
  auto r = parsePublish(ok.get(), error);
  REQUIRE(r);
  CHECK(r->epoch == "AbCd1234");
  CHECK(r->seq == 7);
  CHECK(r->receivers == 2);
  CHECK(r->created);
  CHECK(r->evicted == 3);
  CHECK_FALSE(parsePublish(nullptr, error));
  CHECK(error == "redis connection lost");
  Node err = Node::error("ERR boom");
  CHECK_FALSE(parsePublish(err.get(), error));
  CHECK(error == "redis error: ERR boom");
  Node short_ = Node::array({Node::str("AbCd1234"), Node::integer(7)});
  CHECK_FALSE(parsePublish(short_.get(), error));
  Node bad_epoch = Node::array({Node::str("no spaces"), Node::integer(7), Node::integer(2),
                                Node::integer(1), Node::integer(3)});
  CHECK_FALSE(parsePublish(bad_epoch.get(), error));
  Node zero = Node::array({Node::str("AbCd1234"), Node::integer(0), Node::integer(2),
                           Node::integer(1), Node::integer(3)});
  CHECK_FALSE(parsePublish(zero.get(), error));
  Node wrong_type = Node::str("OK");
  CHECK_FALSE(parsePublish(wrong_type.get(), error));
  CHECK(error == "malformed publish reply");
}

TEST_CASE("redis reply: read renders messages as the hub does", "[redis]") {
  std::string error;
  Node ok = Node::array(
      {Node::str("EP"), Node::integer(5), Node::integer(3), Node::integer(4), Node::integer(0),
       Node::array({entry(4, "{\"a\":1}"), entry(5, "plain", "note", 2000, false)})});
  auto r = parseRead("ch", ok.get(), error);
  INFO(error);
  REQUIRE(r);
  CHECK(r->epoch == "EP");
  CHECK(r->last == 5);
  CHECK(r->first == 3);
  CHECK(r->from == 4);
  REQUIRE(r->messages.size() == 2);
  auto same = holdfast::hub::makeMessage("ch", "EP", 4, "message", "{\"a\":1}", true, 1000);
  CHECK(r->messages[0]->json == same->json);
  CHECK(r->messages[1]->json ==
        "{\"channel\":\"ch\",\"id\":\"EP-5\",\"event\":\"note\",\"data\":\"plain\",\"time\":2000}");
}

TEST_CASE("redis reply: malformed reads are errors", "[redis]") {
  std::string error;
  auto head = [](std::vector<Node> entries, long long last = 5, long long first = 1,
                 long long from = 1) {
    return Node::array({Node::str("EP"), Node::integer(last), Node::integer(first),
                        Node::integer(from), Node::integer(0), Node::array(std::move(entries))});
  };
  Node out_of_order = head({entry(3, "1"), entry(2, "1")});
  CHECK_FALSE(parseRead("ch", out_of_order.get(), error));
  Node beyond_last = head({entry(6, "1")});
  CHECK_FALSE(parseRead("ch", beyond_last.get(), error));
  Node bad_event = head({entry(1, "1", "bad event")});
  CHECK_FALSE(parseRead("ch", bad_event.get(), error));
  Node no_fields = head({Node::array({Node::str("1-0"), Node::array({})})});
  CHECK_FALSE(parseRead("ch", no_fields.get(), error));
  Node not_entry = head({Node::str("x")});
  CHECK_FALSE(parseRead("ch", not_entry.get(), error));
  Node bad_first = head({}, 5, 0, 1);
  CHECK_FALSE(parseRead("ch", bad_first.get(), error));
  Node nil = Node::nil();
  CHECK_FALSE(parseRead("ch", nil.get(), error));
  CHECK(error.find("malformed read reply") != std::string::npos);
  Node empty = head({}, 0, 1, 1);
  CHECK(parseRead("ch", empty.get(), error));
}

TEST_CASE("redis reply: info, integers, NOSCRIPT", "[redis]") {
  std::string error;
  std::optional<InfoReply> info;
  Node nil = Node::nil();
  CHECK(parseInfo(nil.get(), info, error));
  CHECK_FALSE(info);
  Node ok = Node::array({Node::str("EP"), Node::integer(9), Node::integer(300), Node::integer(3),
                         Node::integer(7), Node::integer(9), Node::integer(12345)});
  REQUIRE(parseInfo(ok.get(), info, error));
  REQUIRE(info);
  CHECK(info->seq == 9);
  CHECK(info->first == 7);
  CHECK(info->last_ms == 12345);
  Node bad = Node::array({Node::str("EP"), Node::integer(9)});
  CHECK_FALSE(parseInfo(bad.get(), info, error));
  CHECK_FALSE(parseInfo(nullptr, info, error));
  Node one = Node::integer(1);
  CHECK(parseInteger(one.get(), error) == 1);
  Node s = Node::str("1");
  CHECK_FALSE(parseInteger(s.get(), error));
  Node noscript = Node::error("NOSCRIPT No matching script. Please use EVAL.");
  CHECK(isNoScript(noscript.get()));
  CHECK_FALSE(isNoScript(s.get()));
  CHECK_FALSE(isNoScript(nullptr));
}
