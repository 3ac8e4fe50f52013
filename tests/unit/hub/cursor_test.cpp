// hub::parseCursor, formatCursor, parseChannelList and the name/epoch validators.
#include <catch2/catch.hpp>

#include <string>

#include "hub/cursor.h"

using holdfast::hub::Cursor;
using holdfast::hub::formatCursor;
using holdfast::hub::isValidChannelName;
using holdfast::hub::isValidEpoch;
using holdfast::hub::parseChannelList;
using holdfast::hub::parseCursor;
using holdfast::hub::Position;

namespace {

// The error parseCursor reports for `text`; fails the test if it parses.
std::string cursorError(std::string_view text, size_t max_entries = 64) {
  std::string error;
  auto cursor = parseCursor(text, error, max_entries);
  CHECK_FALSE(cursor.has_value());
  return error;
}

std::string listError(std::string_view text, size_t max_channels = 64) {
  std::string error;
  auto names = parseChannelList(text, error, max_channels);
  CHECK_FALSE(names.has_value());
  return error;
}

// "c0:T1-0,c1:T1-1,..." with `n` entries.
std::string manyEntries(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i)
    out += (i ? "," : "") + ("c" + std::to_string(i)) + ":T1-" + std::to_string(i);
  return out;
}

} // namespace

TEST_CASE("channel names: 1-128 chars of [A-Za-z0-9_.~@-]", "[hub][cursor]") {
  CHECK(isValidChannelName("a"));
  CHECK(isValidChannelName("Chat.room-1_~user@example"));
  CHECK(isValidChannelName(std::string(128, 'x')));
  CHECK_FALSE(isValidChannelName(""));
  CHECK_FALSE(isValidChannelName(std::string(129, 'x')));
  for (std::string bad : {"a:b", "a,b", "a b", "a/b", "a%20", "caf\xC3\xA9", "a\nb", "a*"})
    CHECK_FALSE(isValidChannelName(bad));
}

TEST_CASE("epochs: 1-32 chars of [A-Za-z0-9_-]", "[hub][cursor]") {
  CHECK(isValidEpoch("T1"));
  CHECK(isValidEpoch("aB-_09zz"));
  CHECK(isValidEpoch(std::string(32, 'e')));
  CHECK_FALSE(isValidEpoch(""));
  CHECK_FALSE(isValidEpoch(std::string(33, 'e')));
  CHECK_FALSE(isValidEpoch("a.b"));
  CHECK_FALSE(isValidEpoch("a~b"));
  CHECK_FALSE(isValidEpoch("a=")); // base64 padding is never produced
}

TEST_CASE("cursor parse and format round trip", "[hub][cursor]") {
  std::string error;
  SECTION("empty text is an empty cursor") {
    auto cursor = parseCursor("", error);
    REQUIRE(cursor.has_value());
    CHECK(cursor->empty());
    CHECK(formatCursor(Cursor{}).empty());
  }
  SECTION("several entries keep their order") {
    std::string text = "chat:T1-5,news.x~@:Ab_c-0,z:q-18446744073709551615";
    auto cursor = parseCursor(text, error);
    REQUIRE(cursor.has_value());
    REQUIRE(cursor->size() == 3);
    CHECK((*cursor)[0] == Position{"chat", "T1", 5});
    CHECK((*cursor)[1] == Position{"news.x~@", "Ab_c", 0});
    CHECK((*cursor)[2] == Position{"z", "q", UINT64_MAX});
    CHECK(formatCursor(*cursor) == text);
  }
  SECTION("the epoch may contain '-': the id splits at the last one") {
    auto cursor = parseCursor("a:x-y-12,b:ab--3,c:-Z-7", error);
    REQUIRE(cursor.has_value());
    CHECK((*cursor)[0] == Position{"a", "x-y", 12});
    CHECK((*cursor)[1] == Position{"b", "ab-", 3});
    CHECK((*cursor)[2] == Position{"c", "-Z", 7});
    CHECK(formatCursor(*cursor) == "a:x-y-12,b:ab--3,c:-Z-7");
  }
  SECTION("format of positions built in code") {
    Cursor c{{"a", "E-1", 0}, {"b.c", "X", 42}};
    auto back = parseCursor(formatCursor(c), error);
    REQUIRE(back.has_value());
    CHECK(*back == c);
  }
}

TEST_CASE("cursor errors name the bad entry", "[hub][cursor]") {
  CHECK(cursorError("a:T1-1,,b:T1-2") == "cursor entry 2 (\"\"): empty entry");
  CHECK(cursorError("a:T1-1,") == "cursor entry 2 (\"\"): empty entry");
  CHECK(cursorError(",a:T1-1") == "cursor entry 1 (\"\"): empty entry");
  CHECK(cursorError("a:T1-1,bT1-2") ==
        "cursor entry 2 (\"bT1-2\"): missing ':' between channel and id");
  CHECK(cursorError("a b:T1-1") ==
        "cursor entry 1 (\"a b:T1-1\"): invalid channel name (1-128 chars of A-Za-z0-9_.~@-)");
  CHECK(cursorError(":T1-1").find("invalid channel name") != std::string::npos);
  CHECK(cursorError(std::string(129, 'c') + ":T1-1").find("invalid channel name") !=
        std::string::npos);
  CHECK(cursorError("a:T.1-1") ==
        "cursor entry 1 (\"a:T.1-1\"): invalid epoch (1-32 chars of A-Za-z0-9_-)");
  CHECK(cursorError("a:-5").find("invalid epoch") != std::string::npos);
  CHECK(cursorError("a:" + std::string(33, 'e') + "-5").find("invalid epoch") != std::string::npos);
  CHECK(cursorError("a:b:c-1").find("invalid epoch") != std::string::npos);
  CHECK(cursorError("a:T1-1,x:abc") == "cursor entry 2 (\"x:abc\"): missing sequence");
  CHECK(cursorError("x:abc-") == "cursor entry 1 (\"x:abc-\"): missing sequence");
  CHECK(cursorError("x:") == "cursor entry 1 (\"x:\"): missing sequence");
  for (std::string bad : {"x:abc-1a", "x:abc-+1", "x:abc- 1", "x:abc-0x10", "x:abc-1.0"})
    CHECK(cursorError(bad) == "cursor entry 1 (\"" + bad + "\"): sequence is not a decimal number");
  CHECK(cursorError("x:abc-18446744073709551616") ==
        "cursor entry 1 (\"x:abc-18446744073709551616\"): sequence out of range (uint64)");
  CHECK(cursorError("x:abc-99999999999999999999999").find("out of range") != std::string::npos);
  CHECK(cursorError("a:T1-1,b:T1-1,a:T1-2") ==
        "cursor entry 3 (\"a:T1-2\"): channel appears twice");
}

TEST_CASE("cursor entry count is bounded", "[hub][cursor]") {
  std::string error;
  CHECK(parseCursor(manyEntries(64), error).has_value());
  CHECK(cursorError(manyEntries(65)) == "cursor has 65 entries, at most 64 allowed");
  CHECK(parseCursor(manyEntries(2), error, 2).has_value());
  CHECK(cursorError(manyEntries(3), 2) == "cursor has 3 entries, at most 2 allowed");
  // Counted before anything is split: a flood of commas is refused cheaply.
  CHECK(cursorError(std::string(100000, ',')) == "cursor has 100001 entries, at most 64 allowed");
}

TEST_CASE("cursor errors quote long entries only in part", "[hub][cursor]") {
  std::string error = cursorError(std::string(500, 'a') + ":T1-x");
  CHECK(error.size() < 200);
  CHECK(error.find("...\"): ") != std::string::npos);
  CHECK(error.find("invalid channel name") != std::string::npos);
}

TEST_CASE("channel lists", "[hub][cursor]") {
  std::string error;
  auto names = parseChannelList("a,b.c,d~e", error, 64);
  REQUIRE(names.has_value());
  CHECK(*names == std::vector<std::string>{"a", "b.c", "d~e"});
  CHECK(parseChannelList("one", error, 1).has_value());

  CHECK(listError("") == "no channel given");
  CHECK(listError("a,,b") == "channel 2 (\"\"): empty channel name");
  CHECK(listError("a,") == "channel 2 (\"\"): empty channel name");
  CHECK(listError("a,b c") ==
        "channel 2 (\"b c\"): invalid channel name (1-128 chars of A-Za-z0-9_.~@-)");
  CHECK(listError("a:b").find("invalid channel name") != std::string::npos);
  CHECK(listError("a,b,a") == "channel 3 (\"a\"): channel listed twice");
  CHECK(listError("a,b,c", 2) == "3 channels given, at most 2 allowed");
}
