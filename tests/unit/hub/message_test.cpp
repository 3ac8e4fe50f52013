// hub::makeMessage: the message object rendered once at publish.
#include <catch2/catch.hpp>

#include "support/json.h"

#include <string>

#include <rapidjson/document.h>

#include "hub/message.h"

using holdfast::hub::makeMessage;
using holdfast::hub::MessagePtr;

namespace {

rapidjson::Document parse(std::string_view json) {
  return support::parseJson(json);
}

} // namespace

TEST_CASE("message JSON embeds published JSON verbatim", "[hub][message]") {
  MessagePtr m = makeMessage("c", "T1", 7, "", R"({"a":[1, 2.50,"x"]})", true, 1700000000123);
  CHECK(
      m->json ==
      R"({"channel":"c","id":"T1-7","event":"message","data":{"a":[1, 2.50,"x"]},"time":1700000000123})");
  CHECK(m->event == "message");
  CHECK(m->id() == "T1-7");
  CHECK(m->seq == 7);
  CHECK(m->time_ms == 1700000000123);
  CHECK(m->cost() > m->json.size());
}

TEST_CASE("message JSON trims whitespace around a JSON value", "[hub][message]") {
  MessagePtr m = makeMessage("c", "E-x", 1, "ev", " \r\n\t[1,2]\n", true, 5);
  CHECK(m->json == R"({"channel":"c","id":"E-x-1","event":"ev","data":[1,2],"time":5})");
  CHECK(makeMessage("c", "E", 1, "", "42", true, 0)->json.find(R"("data":42,)") !=
        std::string::npos);
}

TEST_CASE("message JSON carries text bodies as a string", "[hub][message]") {
  std::string text = "he said \"hi\"\n<\\/script> \x01 tab\t";
  MessagePtr m = makeMessage("room.1", "T2", 3, "chat.line", text, false, 9);
  auto doc = parse(m->json);
  CHECK(std::string(doc["channel"].GetString()) == "room.1");
  CHECK(std::string(doc["id"].GetString()) == "T2-3");
  CHECK(std::string(doc["event"].GetString()) == "chat.line");
  REQUIRE(doc["data"].IsString());
  CHECK(std::string(doc["data"].GetString(), doc["data"].GetStringLength()) == text);
  CHECK(doc["time"].GetInt64() == 9);
}

TEST_CASE("message JSON: a body that looks like JSON but is text stays a string",
          "[hub][message]") {
  MessagePtr m = makeMessage("c", "T1", 1, "", "{\"a\":1}", false, 0);
  auto doc = parse(m->json);
  REQUIRE(doc["data"].IsString());
  CHECK(std::string(doc["data"].GetString()) == "{\"a\":1}");
}

TEST_CASE("message JSON: an empty JSON body still renders valid JSON", "[hub][message]") {
  MessagePtr m = makeMessage("c", "T1", 1, "", "  ", true, 0);
  auto doc = parse(m->json);
  CHECK(doc["data"].IsString());
}

using namespace std::string_literals;

TEST_CASE("isValidEventName allows 1..64 of [A-Za-z0-9_.:-]", "[hub]") {
  for (const std::string& ok :
       {"message"s, "a"s, "chat.msg"s, "ns:event"s, "x-y_z"s, "123"s, "-"s, std::string(64, 'e')}) {
    INFO(ok);
    CHECK(holdfast::hub::isValidEventName(ok));
  }
  for (const std::string& bad :
       {""s, "a b"s, "a\nb"s, "a\r"s, "evt\r\ndata: x"s, "evt\n\nid: 1"s, std::string(65, 'e'),
        "\xC3\xA9"s, "a/b"s, "a,b"s, "a\0b"s, "a\tb"s}) {
    INFO(bad);
    CHECK_FALSE(holdfast::hub::isValidEventName(bad));
  }
}

TEST_CASE("a message keeps no spare string capacity and is charged what it allocates",
          "[hub][message][memory]") {
  // A long seq and an escaped body both outgrow any fixed reservation; the rendered string is
  // still exactly its size, so a buffered 10 KiB message holds 10 KiB, not a doubled buffer.
  std::string quotes(5000, '"');
  for (auto [data, is_json] : {std::pair<std::string, bool>{std::string(10240, 'x'), false},
                               {quotes, false},
                               {"[" + std::string(10000, '1') + "]", true}}) {
    MessagePtr m =
        makeMessage("room", "Epoch123", 18446744073709551615ull, "", data, is_json, 1700000000123);
    CHECK(m->json.capacity() == m->json.size());
    CHECK(m->cost() >= m->json.size() + sizeof(holdfast::hub::Message));
    CHECK(m->cost() <= m->json.size() + sizeof(holdfast::hub::Message) + 96);
    CHECK(m->cost() == holdfast::hub::Message(*m).cost()); // a copy (restore) costs the same
  }
}
