// publish::: body checks, event names, batch parsing and the client_publish glob.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "publish/request.h"

using namespace holdfast;
using publish::globMatch;

TEST_CASE("globMatch treats '*' as any run of characters", "[publish][glob]") {
  CHECK(globMatch("room.*", "room.1"));
  CHECK(globMatch("room.*", "room."));
  CHECK_FALSE(globMatch("room.*", "room"));
  CHECK_FALSE(globMatch("room.*", "xroom.1"));
  CHECK(globMatch("*", ""));
  CHECK(globMatch("*", "anything"));
  CHECK(globMatch("", ""));
  CHECK_FALSE(globMatch("", "a"));
  CHECK(globMatch("a*b*c", "aXXbYYc"));
  CHECK(globMatch("a*b*c", "abc"));
  CHECK_FALSE(globMatch("a*b*c", "aXXbYY"));
  CHECK(globMatch("*.chat", "team.chat"));
  CHECK_FALSE(globMatch("*.chat", "team.chat.x"));
  CHECK(globMatch("a**b", "ab"));
  CHECK(globMatch("exact", "exact"));
  CHECK_FALSE(globMatch("exact", "exactly"));
  // Many stars against a long near-miss stays fast (linear backtracking).
  CHECK_FALSE(globMatch("*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

TEST_CASE("openToPages needs every channel to match a pattern", "[publish][glob]") {
  std::vector<std::string> patterns{"room.*", "lobby"};
  CHECK(publish::openToPages(patterns, {"room.1", "lobby"}));
  CHECK_FALSE(publish::openToPages(patterns, {"room.1", "admin"}));
  CHECK_FALSE(publish::openToPages({}, {"room.1"}));
  CHECK_FALSE(publish::openToPages(patterns, {}));
}

TEST_CASE("JSON content types are recognised by type, ignoring case and parameters", "[publish]") {
  CHECK(publish::isJsonContentType("application/json"));
  CHECK(publish::isJsonContentType("Application/JSON; charset=utf-8"));
  CHECK(publish::isJsonContentType("application/vnd.api+json"));
  CHECK(publish::isJsonContentType("application/json ;x=y"));
  CHECK_FALSE(publish::isJsonContentType("text/plain"));
  CHECK_FALSE(publish::isJsonContentType(""));
  CHECK_FALSE(publish::isJsonContentType("application/jsonx"));
}

TEST_CASE("checkBody validates JSON bodies only", "[publish]") {
  CHECK_FALSE(publish::checkBody("{\"a\":1}", true));
  CHECK_FALSE(publish::checkBody("not json", false));
  auto bad = publish::checkBody("[1,", true);
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(bad->code == "bad_json");
  CHECK_THAT(bad->message, Catch::Contains("offset 3"));
}

TEST_CASE("parseEvent defaults to message and validates names", "[publish]") {
  std::string event;
  CHECK_FALSE(publish::parseEvent(nullptr, event));
  CHECK(event == "message");
  std::string name = "update";
  CHECK_FALSE(publish::parseEvent(&name, event));
  CHECK(event == "update");
  std::string bad(65, 'a');
  auto problem = publish::parseEvent(&bad, event);
  REQUIRE(problem);
  CHECK(problem->code == "bad_event");
}

TEST_CASE("parseBatch returns compact items or the problem with the first bad one",
          "[publish][batch]") {
  std::vector<engine::PublishItem> items;
  REQUIRE_FALSE(publish::parseBatch(R"([{"channel":"a","data":{ "x" : 1 }},
                                       {"channel":"b","event":"e","data":null}])",
                                    items));
  REQUIRE(items.size() == 2);
  CHECK(items[0].channel == "a");
  CHECK(items[0].event == "message");
  CHECK(items[0].data == "{\"x\":1}");
  CHECK(items[0].data_is_json);
  CHECK(items[1].event == "e");
  CHECK(items[1].data == "null");

  auto bad = publish::parseBatch(R"([{"channel":"a","data":1},{"data":1}])", items);
  REQUIRE(bad);
  CHECK(bad->code == "bad_batch");
  CHECK_THAT(bad->message, Catch::StartsWith("item 1: "));
}
