// Key names, pub/sub payloads, and the script command lines.
#include <catch2/catch.hpp>

#include "redis/keys.h"
#include "redis/payload.h"
#include "redis/scripts.h"

using namespace holdfast::redis;

TEST_CASE("redis keys share the channel's hash tag", "[redis]") {
  CHECK(metaKey("room.1") == "holdfast:{room.1}:meta");
  CHECK(logKey("room.1") == "holdfast:{room.1}:log");
  CHECK(pubsubChannel("room.1") == "holdfast:{room.1}:pub");
  CHECK(channelOfPubsub("holdfast:{room.1}:pub") == "room.1");
  CHECK_FALSE(channelOfPubsub("holdfast:{room.1}:meta"));
  CHECK_FALSE(channelOfPubsub("other:{x}:pub"));
  CHECK_FALSE(channelOfPubsub("holdfast:{}:pub"));
  CHECK_FALSE(channelOfPubsub("holdfast:{a b}:pub"));
}

TEST_CASE("redis payload: messages and deletions", "[redis]") {
  auto n = parseNotice("ch", "M\nEP\n3\nnote\n1500\n1\n{\"x\":\"a\\nb\"}\n");
  REQUIRE(n);
  auto m = std::get<holdfast::hub::MessagePtr>(*n);
  CHECK(m->seq == 3);
  CHECK(m->event == "note");
  CHECK(m->json ==
        holdfast::hub::makeMessage("ch", "EP", 3, "note", "{\"x\":\"a\\nb\"}\n", true, 1500)->json);
  auto text = parseNotice("ch", "M\nEP\n4\nmessage\n1\n0\nline1\nline2");
  REQUIRE(text);
  CHECK(std::get<holdfast::hub::MessagePtr>(*text)->json.find("\"line1\\nline2\"") !=
        std::string::npos);
  auto d = parseNotice("ch", "D\nEP");
  REQUIRE(d);
  CHECK(std::get<Deleted>(*d).epoch == "EP");
  for (const char* bad :
       {"", "X\nEP", "D\n", "D\nbad epoch", "M\nEP\n0\nmessage\n1\n1\n1",
        "M\nEP\n1\nbad event\n1\n1\n1", "M\nEP\n1\nmessage\nx\n1\n1", "M\nEP\n1\nmessage\n1\n2\n1",
        "M\nEP\n1\nmessage\n1", "M\nEP\n-1\ne\n1\n1\n"})
    CHECK_FALSE(parseNotice("ch", bad));
  CHECK_FALSE(parseNotice("bad channel", "D\nEP"));
}

TEST_CASE("redis scripts: sha, commands, EVAL fallback", "[redis]") {
  for (const Script* s : allScripts()) {
    CHECK(s->sha.size() == 40);
    CHECK(s->sha.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
  holdfast::hub::Limits limits;
  limits.max_messages = 10;
  PublishArgs a{"ch", "note", "{}", true, 120, "NEWEPOCH", 5000};
  Command c = publishCommand(a, limits);
  REQUIRE(c.size() == 16);
  CHECK(c[0] == "EVALSHA");
  CHECK(c[1] == publishScript().sha);
  CHECK(c[2] == "2");
  CHECK(c[3] == "holdfast:{ch}:meta");
  CHECK(c[4] == "holdfast:{ch}:log");
  CHECK(c[5] == "NEWEPOCH");
  CHECK(c[8] == "1");
  CHECK(c[10] == "120");
  CHECK(c[11] == "10");
  CHECK(c[14] == "holdfast:{ch}:pub");
  CHECK(toEval(c));
  CHECK(c[0] == "EVAL");
  CHECK(c[1] == publishScript().body);
  CHECK_FALSE(toEval(c));

  holdfast::hub::Start s;
  s.channel = "ch";
  s.mode = holdfast::hub::Start::Mode::kCursor;
  s.position = {"ch", "EP", 41};
  Command r = readCommand(s, "NEW", limits, 9);
  CHECK(r[1] == readScript().sha);
  CHECK(r[6] == "after");
  CHECK(r[7] == "41");
  CHECK(r[8] == "EP");
  s.mode = holdfast::hub::Start::Mode::kLast;
  s.last_n = 3;
  r = readCommand(s, "NEW", limits, 9);
  CHECK(r[6] == "last");
  CHECK(r[7] == "3");
  CHECK(deleteCommand("ch").back() == "holdfast:{ch}:pub");
  CHECK(infoCommand("ch", limits, 1).size() == 9);
}
