// Percent-decoding, query strings and REQUEST_URI splitting.
#include <catch2/catch.hpp>

#include <optional>

#include "http/query.h"

using holdfast::http::parseQuery;
using holdfast::http::percentDecode;
using holdfast::http::Query;
using holdfast::http::splitTarget;

namespace {

using Items = std::vector<std::pair<std::string, std::string>>;

} // namespace

TEST_CASE("percentDecode: accepted input", "[http]") {
  struct Case {
    const char* in;
    bool plus_is_space;
    const char* out;
  };
  const Case cases[] = {
      {"", false, ""},
      {"abc", false, "abc"},
      {"%41", false, "A"},
      {"%41%42c", false, "ABc"},
      {"%e2%82%ac", false, "\xe2\x82\xac"}, // lower-case hex, UTF-8 bytes kept as is
      {"%E2%82%AC", false, "\xe2\x82\xac"},
      {"a+b", false, "a+b"},
      {"a+b", true, "a b"},
      {"%2B", true, "+"}, // an escaped plus stays a plus
      {"%25", false, "%"},
      {"%2541", false, "%41"}, // decoded once only
      {"%20x", false, " x"},
      {"%ff", false, "\xff"},
  };
  for (const auto& c : cases) {
    INFO(c.in << " plus_is_space=" << c.plus_is_space);
    auto out = percentDecode(c.in, c.plus_is_space);
    REQUIRE(out.has_value());
    CHECK(*out == c.out);
  }
}

TEST_CASE("percentDecode: rejected input", "[http]") {
  const char* bad[] = {"%", "%4", "a%", "a%4", "%zz", "%G1", "%1G", "%-1", "% 1", "%00", "a%00b"};
  for (const char* in : bad) {
    INFO(in);
    CHECK_FALSE(percentDecode(in, false).has_value());
    CHECK_FALSE(percentDecode(in, true).has_value());
  }
  CHECK_FALSE(percentDecode(std::string_view("a\0b", 3), false).has_value()); // raw NUL
}

TEST_CASE("parseQuery: items, empty items, '=' and decoding", "[http]") {
  struct Case {
    const char* text;
    Items items;
  };
  const Case cases[] = {
      {"", {}},
      {"a=1", {{"a", "1"}}},
      {"a=1&b=2", {{"a", "1"}, {"b", "2"}}},
      {"a=1&&b=2", {{"a", "1"}, {"b", "2"}}},
      {"&a=1&", {{"a", "1"}}},
      {"&&&", {}},
      {"c", {{"c", ""}}},
      {"c=", {{"c", ""}}},
      {"=v", {{"", "v"}}},
      {"a=b=c", {{"a", "b=c"}}},
      {"k%20y=v+w%2B", {{"k y", "v w+"}}},
      {"cursor=ch%3AABC-1%2Cch2%3AXY-0", {{"cursor", "ch:ABC-1,ch2:XY-0"}}},
      {"a=1&a=2", {{"a", "1"}, {"a", "2"}}},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    std::string error;
    auto q = parseQuery(c.text, error);
    REQUIRE(q.has_value());
    CHECK(q->items == c.items);
    CHECK(error.empty());
  }
}

TEST_CASE("parseQuery: a bad escape fails and names the item", "[http]") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"a=1&b=%zz&c=3", "bad percent-escape in query item \"b=%zz\""},
      {"a%=1", "bad percent-escape in query item \"a%=1\""},
      {"x=%4", "bad percent-escape in query item \"x=%4\""},
      {"ok=1&nul=%00", "bad percent-escape in query item \"nul=%00\""},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    std::string error;
    CHECK_FALSE(parseQuery(c.text, error).has_value());
    CHECK(error == c.error);
  }
  std::string error;
  std::string long_item = "v=" + std::string(100, 'x') + "%zz";
  CHECK_FALSE(parseQuery(long_item, error).has_value());
  CHECK(error == "bad percent-escape in query item \"v=" + std::string(62, 'x') + "...\"");
}

TEST_CASE("Query::get returns the first value or nullptr", "[http]") {
  std::string error;
  auto q = parseQuery("a=1&b=&a=2&c", error);
  REQUIRE(q.has_value());
  REQUIRE(q->get("a") != nullptr);
  CHECK(*q->get("a") == "1");
  REQUIRE(q->get("b") != nullptr);
  CHECK(q->get("b")->empty());
  REQUIRE(q->get("c") != nullptr);
  CHECK(q->get("c")->empty());
  CHECK(q->get("d") == nullptr);
  CHECK(q->get("A") == nullptr); // keys are case-sensitive
  CHECK(Query{}.get("a") == nullptr);
}

TEST_CASE("splitTarget: path decoded, query raw", "[http]") {
  struct Case {
    const char* uri;
    const char* path;
    const char* query;
  };
  const Case cases[] = {
      {"/push/sub/ch", "/push/sub/ch", ""},
      {"/push/sub/ch?", "/push/sub/ch", ""},
      {"/push/sub/ch?a=1&b=%zz", "/push/sub/ch", "a=1&b=%zz"}, // the query is not decoded here
      {"/push/sub/a%2Cb?x=1?y", "/push/sub/a,b", "x=1?y"},     // split at the first '?'
      {"/p/a+b", "/p/a+b", ""},                                // '+' is literal in a path
      {"/p/%2B%20", "/p/+ ", ""},
      {"/p/..a/b..", "/p/..a/b..", ""}, // dots inside a segment are fine
      {"/p/./x", "/p/./x", ""},
      {"", "", ""},
  };
  for (const auto& c : cases) {
    INFO(c.uri);
    auto t = splitTarget(c.uri);
    REQUIRE(t.has_value());
    CHECK(t->path == c.path);
    CHECK(t->query == c.query);
  }
}

TEST_CASE("splitTarget: bad escapes, NUL and '..' segments are rejected", "[http]") {
  const char* bad[] = {"/p/%zz",    "/p/%4", "/p/%", "/p/%00", "/p/../x",   "/p/%2e%2e/x",
                       "/p/%2E./x", "/p/..", "../p", "..",     "/p/..?a=1", "/p/%2e%2e%2fx"};
  for (const char* uri : bad) {
    INFO(uri);
    CHECK_FALSE(splitTarget(uri).has_value());
  }
  CHECK_FALSE(splitTarget(std::string_view("/p/a\0b", 6)).has_value());
  CHECK(splitTarget("/p/x?q=%00").has_value()); // the query is checked by parseQuery
}
