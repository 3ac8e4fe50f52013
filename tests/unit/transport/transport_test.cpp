// Transport names, callback / event-name validation, Content-Types and escapeForScript.
#include <catch2/catch.hpp>

#include <string>

#include "transport/transport.h"
#include "util/random.h"

using namespace holdfast::transport;
using namespace std::string_literals;

TEST_CASE("kindName and parseKind round-trip every transport", "[transport]") {
  const char* names[] = {"longpoll", "poll", "jsonp", "sse", "iframe", "multipart", "ndjson"};
  for (size_t i = 0; i < kKindCount; ++i) {
    const Kind kind = static_cast<Kind>(i);
    CHECK(kindName(kind) == names[i]);
    REQUIRE(parseKind(names[i]).has_value());
    CHECK(*parseKind(names[i]) == kind);
  }
  for (const char* bad : {"", "LONGPOLL", "websocket", "sse ", "poll\n", "ndjsonx"})
    CHECK_FALSE(parseKind(bad).has_value());
}

TEST_CASE("isStreaming separates streams from one-shot bodies", "[transport]") {
  CHECK_FALSE(isStreaming(Kind::kLongpoll));
  CHECK_FALSE(isStreaming(Kind::kPoll));
  CHECK_FALSE(isStreaming(Kind::kJsonp));
  CHECK(isStreaming(Kind::kSse));
  CHECK(isStreaming(Kind::kIframe));
  CHECK(isStreaming(Kind::kMultipart));
  CHECK(isStreaming(Kind::kNdjson));
}

TEST_CASE("isValidCallback follows ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$", "[transport]") {
  for (const std::string& ok : {"cb"s, "a"s, "_"s, "$"s, "jQuery1102_1699999"s, "a.b.c"s, "$.x"s,
                                "_1$"s, "Z9"s, "x" + std::string(63, 'a')}) {
    INFO(ok);
    CHECK(isValidCallback(ok));
  }
  for (const std::string& bad :
       {""s,           "1abc"s,     ".a"s,   "a-b"s,   "a(b)"s, "a b"s,
        "alert(1);x"s, "cb\r\n"s,   "cb\n"s, "cb\rx"s, "\ncb"s, "x" + std::string(64, 'a'),
        "a\0b"s,       "\xC3\xA9"s, "a;b"s,  "a[0]"s,  "a/b"s,  "a<b"s,
        "a'b"s,        "a\"b"s}) {
    INFO(bad);
    CHECK_FALSE(isValidCallback(bad));
  }
}

TEST_CASE("contentType names each transport's media type", "[transport]") {
  Context ctx;
  auto type = [&](Kind kind) {
    ctx.kind = kind;
    return contentType(ctx);
  };
  ctx.boundary = "holdfast-XYZ";
  CHECK(type(Kind::kLongpoll) == "application/json");
  CHECK(type(Kind::kPoll) == "application/json");
  CHECK(type(Kind::kJsonp) == "application/javascript; charset=utf-8");
  CHECK(type(Kind::kSse) == "text/event-stream");
  CHECK(type(Kind::kIframe) == "text/html; charset=utf-8");
  CHECK(type(Kind::kMultipart) == "multipart/x-mixed-replace; boundary=holdfast-XYZ");
  CHECK(type(Kind::kNdjson) == "application/x-ndjson");
}

TEST_CASE("makeBoundary is holdfast- and 24 random characters", "[transport]") {
  holdfast::util::CountingRandom counting;
  CHECK(makeBoundary(counting) == "holdfast-T1");
  holdfast::util::SecureRandom secure;
  const std::string a = makeBoundary(secure), b = makeBoundary(secure);
  CHECK(a.size() == 9 + 24);
  CHECK(a.rfind("holdfast-", 0) == 0);
  CHECK(a != b);
}

TEST_CASE("escapeForScript rewrites the bytes that can break out of <script>", "[transport]") {
  CHECK(escapeForScript("") == "");
  CHECK(escapeForScript(R"({"a":"b"})") == R"({"a":"b"})");
  CHECK(escapeForScript("<>&") == R"(\u003c\u003e\u0026)");
  CHECK(escapeForScript("\"</script><!--\"") == R"("\u003c/script\u003e\u003c!--")");
  CHECK(escapeForScript("{\r\n\"a\":1\n}") == "{  \"a\":1 }");
  CHECK(escapeForScript("\"\xE2\x80\xA8x\xE2\x80\xA9\"") == R"("\u2028x\u2029")");
  // Other characters, including U+2027, U+20AC and a truncated E2 80 at the end, pass through.
  CHECK(escapeForScript("\xE2\x80\xA7\xE2\x82\xAC\xE2\x80") == "\xE2\x80\xA7\xE2\x82\xAC\xE2\x80");
  std::string out = "x";
  appendEscapedForScript(out, "<");
  CHECK(out == R"(x\u003c)");
}
