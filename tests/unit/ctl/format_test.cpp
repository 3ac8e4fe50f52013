// holdfastctl output: the channels table and tail lines from long-poll answers.
#include <catch2/catch.hpp>

#include "ctl/format.h"

using namespace holdfast::ctl;

TEST_CASE("ctl: channels page and table", "[ctl]") {
  std::vector<ChannelRow> rows;
  std::string next, error;
  REQUIRE(parseChannelsPage(
      R"({"channels":[{"channel":"news","epoch":"e1","messages":12,"bytes":3400,)"
      R"("first_id":"e1-1","last_id":"e1-12","last_seq":12,"subscribers":3,)"
      R"("last_publish":1764614400123},)"
      R"({"channel":"a","epoch":"e2","messages":0,"bytes":0,"first_id":null,"last_id":null,)"
      R"("last_seq":0,"subscribers":0,"last_publish":null}],"next":"a"})",
      rows, next, error));
  CHECK(next == "a");
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].last_id == "-");
  CHECK(formatChannelsTable(rows) ==
        "CHANNEL  MESSAGES  BYTES  SUBSCRIBERS  LAST ID  LAST PUBLISH\n"
        "news           12   3400            3  e1-12    2025-12-01T18:40:00Z\n"
        "a               0      0            0  -        -\n");
  REQUIRE(parseChannelsPage(R"({"channels":[],"next":null})", rows, next, error));
  CHECK(next.empty());
  CHECK_FALSE(parseChannelsPage("[]", rows, next, error));
  CHECK_FALSE(error.empty());
}

TEST_CASE("ctl: tail lines, readable and --json", "[ctl]") {
  std::string body =
      R"({"messages":[{"channel":"news","id":"e1-5","event":"message","data":{"a": 1},)"
      R"("time":1},{"channel":"news","id":"e1-6","event":"note","data":"two\nlines","time":2}],)"
      R"("cursor":"news:e1-6","gap":[{"channel":"news","requested":"e1-1",)"
      R"("first_available":"e1-3","reason":"evicted"}]})";
  PollAnswer a;
  std::string error;
  REQUIRE(parsePollAnswer(body, false, a, error));
  REQUIRE(a.lines.size() == 2);
  CHECK(a.lines[0] == R"(news e1-5 message {"a":1})");
  CHECK(a.lines[1] == R"(news e1-6 note two\nlines)");
  CHECK(a.cursor == "news:e1-6");
  REQUIRE(a.gaps.size() == 1);
  CHECK(a.gaps[0] == "gap in news: asked for e1-1, continuing from e1-3 (evicted)");
  CHECK_FALSE(a.reconnect);
  CHECK(a.closed.empty());

  REQUIRE(parsePollAnswer(body, true, a, error));
  CHECK(a.lines[0] ==
        R"({"channel":"news","id":"e1-5","event":"message","data":{"a":1},"time":1})");

  REQUIRE(parsePollAnswer(R"({"messages":[],"cursor":"c","heartbeat":true})", false, a, error));
  CHECK(a.lines.empty());
  REQUIRE(parsePollAnswer(R"({"messages":[],"cursor":"c","reconnect":true})", false, a, error));
  CHECK(a.reconnect);
  REQUIRE(parsePollAnswer(R"({"messages":[],"cursor":"c","closed":"deleted"})", false, a, error));
  CHECK(a.closed == "deleted");
  CHECK_FALSE(parsePollAnswer("<html>", false, a, error));
}
