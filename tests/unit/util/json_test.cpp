// util::appendJsonString and util::validateJson.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>

#include <rapidjson/document.h>

#include "util/json.h"

using holdfast::util::appendJsonString;
using holdfast::util::validateJson;
using namespace std::string_literals;

namespace {

std::string quoted(std::string_view s) {
  std::string out;
  appendJsonString(out, s);
  return out;
}

const std::string kFFFD = "\xEF\xBF\xBD";

// Parses `json` (one JSON string literal) and returns its value.
std::string parseString(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.c_str(), json.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsString());
  return std::string(doc.GetString(), doc.GetStringLength());
}

// UTF-8 encoding of a Unicode scalar value.
void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A random scalar value (no surrogates), biased to ASCII and the U+2028 neighbourhood.
uint32_t randomCodePoint(std::mt19937& rng) {
  switch (rng() % 4) {
  case 0:
    return rng() % 0x80;
  case 1:
    return 0x2020 + rng() % 16;
  default: {
    uint32_t cp = rng() % 0x110000;
    return (cp >= 0xD800 && cp <= 0xDFFF) ? 0xFFFD : cp;
  }
  }
}

} // namespace

TEST_CASE("appendJsonString escapes quotes, backslashes and control characters", "[util]") {
  CHECK(quoted("") == "\"\"");
  CHECK(quoted("hello world") == "\"hello world\"");
  CHECK(quoted("a\"b\\c/d") == R"("a\"b\\c/d")");
  CHECK(quoted("\n\r\t\b\f") == R"("\n\r\t\b\f")");
  CHECK(quoted(std::string("\x00\x01\x1f\x7f", 4)) == "\"\\u0000\\u0001\\u001f\x7f\"");
}

TEST_CASE("appendJsonString appends to what is already there", "[util]") {
  std::string out = "x=";
  appendJsonString(out, "y");
  CHECK(out == "x=\"y\"");
}

TEST_CASE("appendJsonString makes the text safe inside <script>", "[util]") {
  CHECK(quoted("</script>") == R"("<\/script>")");
  CHECK(quoted("a<b</") == R"("a<b<\/")");
  CHECK(quoted("<") == R"("<")");
  CHECK(quoted("\xE2\x80\xA8|\xE2\x80\xA9") == R"("\u2028|\u2029")");
  CHECK(quoted("\xE2\x80\xA7\xE2\x80\xAA") == "\"\xE2\x80\xA7\xE2\x80\xAA\""); // neighbours kept
}

TEST_CASE("appendJsonString copies valid UTF-8", "[util]") {
  const std::string s = "\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xEF\xBF\xBD";
  CHECK(quoted(s) == "\"" + s + "\"");
}

TEST_CASE("appendJsonString replaces invalid UTF-8 with U+FFFD", "[util]") {
  const std::string r = kFFFD;
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"\x80", r},                         // stray continuation
      {"\xFF", r},                         // never valid
      {"\xC0\xAF", r + r},                 // overlong '/': C0 is never a lead byte
      {"\xE0\x80\xAF", r + r + r},         // overlong 3-byte form
      {"\xF0\x80\x80\xAF", r + r + r + r}, // overlong 4-byte form
      {"\xED\xA0\x80", r + r + r},         // UTF-16 surrogate D800
      {"\xF4\x90\x80\x80", r + r + r + r}, // above U+10FFFF
      {"\xC3", r},                         // truncated at the end
      {"\xE2\x82", r},                     // truncated 3-byte sequence is one U+FFFD
      {"\xF0\x9F\x98", r},                 // truncated 4-byte sequence
      {"\xE2\x82"
       "A",
       r + "A"},                                // interrupted by ASCII
      {"\xF0\x9F\x98\xC3\xA9", r + "\xC3\xA9"}, // interrupted by a valid sequence
      {"a\xC3\"", "a" + r + "\\\""},            // the quote after a bad byte is escaped
      {"\xE2\x80</", r + "<\\/"},               // a bad byte before "</" still escapes it
  };
  for (const auto& c : cases) {
    INFO("input bytes: " << c.in.size());
    CHECK(quoted(c.in) == "\"" + c.out + "\"");
  }
}

TEST_CASE("appendJsonString output is valid JSON for any bytes", "[util]") {
  std::mt19937 rng(12345);
  for (int round = 0; round < 2000; ++round) {
    std::string in(rng() % 40, '\0');
    for (auto& ch : in)
      ch = static_cast<char>(rng() % 256);
    const std::string json = quoted(in);
    INFO("round " << round);
    REQUIRE(validateJson(json).ok); // validateJson also checks the UTF-8
    (void)parseString(json);
  }
}

TEST_CASE("appendJsonString round-trips valid UTF-8 exactly", "[util]") {
  std::mt19937 rng(777);
  for (int round = 0; round < 2000; ++round) {
    std::string in;
    for (int i = 0; i < 12; ++i)
      appendUtf8(in, randomCodePoint(rng));
    INFO("round " << round);
    CHECK(parseString(quoted(in)) == in);
  }
  const std::string s = "</script>\x00\n\"\\\xE2\x80\xA8\xE2\x80\xA9\xF0\x9F\x98\x80"s;
  REQUIRE(s.size() == 23);
  CHECK(parseString(quoted(s)) == s);
}

TEST_CASE("validateJson accepts exactly one value with surrounding whitespace", "[util]") {
  for (const char* ok : {"{}", "[]", " [1, 2.5, -3e2] ", "\"x\"", "null", "true", "0",
                         "\n{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\xC3\xA9\"}\r\n\t"}) {
    INFO(ok);
    auto check = validateJson(ok);
    CHECK(check.ok);
    CHECK(check.error.empty());
  }
}

TEST_CASE("validateJson reports RapidJSON's message and offset", "[util]") {
  struct Case {
    std::string text;
    std::string error;
    size_t offset;
  };
  const Case cases[] = {
      {"", "The document is empty.", 0},
      {"   ", "The document is empty.", 3},
      {"{\"a\":}", "Invalid value.", 5},
      {"[1,2", "Missing a comma or ']' after an array element.", 4},
      {"{} x", "The document root must not be followed by other values.", 3},
      {"{}{}", "The document root must not be followed by other values.", 2},
      {"1 2", "The document root must not be followed by other values.", 2},
      {"NaN", "Invalid value.", 0},
      {"\"a\nb\"", "Invalid escape character in string.", 2},
      {"\"\xC3\x28\"", "Invalid encoding in string.", 1},
      {"\"\xED\xA0\x80\"", "Invalid encoding in string.", 1},
      {std::string("1\0x", 3), "The document root must not be followed by other values.", 1},
      {std::string("{}\0", 3), "The document root must not be followed by other values.", 2},
  };
  for (const auto& c : cases) {
    INFO("text: " << c.text);
    auto check = validateJson(c.text);
    CHECK_FALSE(check.ok);
    CHECK(check.error == c.error);
    CHECK(check.offset == c.offset);
  }
}

TEST_CASE("validateJson limits nesting to 128 levels", "[util]") {
  auto nested = [](size_t depth, char open, char close) {
    return std::string(depth, open) + std::string(depth, close);
  };
  CHECK(validateJson(nested(128, '[', ']')).ok);
  std::string objects;
  for (int i = 0; i < 128; ++i)
    objects += "{\"k\":";
  objects += "1" + std::string(128, '}');
  CHECK(validateJson(objects).ok);

  auto deep = validateJson(nested(129, '[', ']'));
  CHECK_FALSE(deep.ok);
  CHECK(deep.error == "Nesting deeper than 128 levels.");
  CHECK(deep.offset == 128); // the bracket that opens level 129

  auto mixed = validateJson("{\"a\":" + nested(128, '[', ']') + "}");
  CHECK_FALSE(mixed.ok);
  CHECK(mixed.offset == 5 + 127);

  // Far deeper input neither recurses nor overflows the stack.
  auto huge = validateJson(std::string(1000000, '['));
  CHECK_FALSE(huge.ok);
  CHECK(huge.offset == 128);
}
