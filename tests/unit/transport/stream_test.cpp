// Streaming wire formats: exact bytes, and structure checked by small spec-following parsers.
#include <catch2/catch.hpp>

#include "support/json.h"

#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "transport/transport.h"

using namespace holdfast;
using namespace holdfast::transport;

namespace {

const std::string kHello = R"({"type":"hello","cursor":"news:E-0","heartbeat":25})";
const std::string kFrame = R"({"type":"heartbeat","time":5})";

Context context(Kind kind) {
  Context ctx;
  ctx.kind = kind;
  if (kind == Kind::kMultipart)
    ctx.boundary = "holdfast-B";
  return ctx;
}

std::string frame(const Context& ctx, std::string_view event, std::string_view json,
                  std::string_view sse_id = {}) {
  std::string out;
  appendFrame(out, ctx, event, json, sse_id);
  return out;
}

size_t count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}

rapidjson::Document parse(std::string_view json) {
  return support::parseJson(json);
}

// An event as the WHATWG EventSource parser dispatches it.
struct SseEvent {
  std::string type, data, id;
};

// Follows the HTML spec's event-stream interpretation (lines end in CRLF, LF or CR).
std::vector<SseEvent> parseSse(std::string_view stream, int* retry) {
  std::vector<SseEvent> events;
  std::string type, data, id;
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t end = stream.find_first_of("\r\n", pos);
    REQUIRE(end != std::string_view::npos); // a complete stream ends with a line break
    const std::string_view line = stream.substr(pos, end - pos);
    pos = end + (stream.compare(end, 2, "\r\n") == 0 ? 2 : 1);
    if (line.empty()) {
      if (!data.empty()) {
        data.pop_back();
        events.push_back({type.empty() ? "message" : type, data, id});
      }
      type.clear();
      data.clear();
      continue;
    }
    const size_t colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ')
      value.remove_prefix(1);
    if (field == "event")
      type = value;
    else if (field == "data")
      (data += value) += '\n';
    else if (field == "id")
      id = value;
    else if (field == "retry")
      *retry = std::stoi(std::string(value));
  }
  return events;
}

// The JSON argument of every "<script>parent.<callback>(...);</script>\n" in `html`.
std::vector<std::string> iframeCalls(std::string_view html, std::string_view callback) {
  const std::string open = "<script>parent." + std::string(callback) + "(";
  const std::string close = ");</script>\n";
  std::vector<std::string> calls;
  for (size_t pos = html.find(open); pos != std::string_view::npos; pos = html.find(open, pos)) {
    const size_t start = pos + open.size();
    const size_t end = html.find(close, start);
    REQUIRE(end != std::string_view::npos);
    calls.emplace_back(html.substr(start, end - start));
    pos = end + close.size();
  }
  return calls;
}

// Splits a complete multipart body per RFC 2046 and returns each part's JSON after checking
// its headers; fails unless the body is dash-boundary, parts, close-delimiter, CRLF.
std::vector<std::string> multipartParts(std::string_view body, std::string_view boundary) {
  const std::string dash = "--" + std::string(boundary);
  const std::string delimiter = "\r\n" + dash;
  REQUIRE(body.substr(0, dash.size() + 2) == dash + "\r\n");
  std::vector<std::string> parts;
  size_t pos = dash.size() + 2;
  for (;;) {
    const size_t end = body.find(delimiter, pos);
    REQUIRE(end != std::string_view::npos);
    const std::string_view part = body.substr(pos, end - pos);
    const size_t blank = part.find("\r\n\r\n");
    REQUIRE(blank != std::string_view::npos);
    CHECK(part.substr(0, blank) == "Content-Type: application/json");
    parts.emplace_back(part.substr(blank + 4));
    pos = end + delimiter.size();
    const std::string_view after = body.substr(pos, 2);
    if (after == "--") {
      CHECK(body.substr(pos) == "--\r\n");
      return parts;
    }
    REQUIRE(after == "\r\n");
    pos += 2;
  }
}

} // namespace

// ---- SSE ----

TEST_CASE("SSE preamble: retry, then the hello event with the cursor as id", "[transport]") {
  Context ctx = context(Kind::kSse);
  ctx.retry_ms = 3000;
  CHECK(preamble(ctx, kHello, "news:E-0") ==
        "retry: 3000\nid: news:E-0\nevent: hello\ndata: " + kHello + "\n\n");
  CHECK(tail(ctx).empty());
}

TEST_CASE("SSE frames: optional id, event, data", "[transport]") {
  const Context ctx = context(Kind::kSse);
  CHECK(frame(ctx, "heartbeat", kFrame) == "event: heartbeat\ndata: " + kFrame + "\n\n");
  CHECK(frame(ctx, "chat.msg", "{}", "news:E-8") == "id: news:E-8\nevent: chat.msg\ndata: {}\n\n");
  CHECK(frame(ctx, "", "{}") == "data: {}\n\n");
}

TEST_CASE("SSE splits JSON with raw line breaks into data lines", "[transport]") {
  const Context ctx = context(Kind::kSse);
  const std::string json =
      "{\"type\":\"message\",\"data\":{\r\n  \"a\": 1,\n  \"b\": \"x\"\r},\n\"c\":2}";
  CHECK(frame(ctx, "message", json, "n:E-1") == "id: n:E-1\nevent: message\n"
                                                "data: {\"type\":\"message\",\"data\":{\n"
                                                "data:   \"a\": 1,\n"
                                                "data:   \"b\": \"x\"\n"
                                                "data: },\n"
                                                "data: \"c\":2}\n\n");
}

TEST_CASE("SSE output reassembles in an EventSource parser", "[transport]") {
  Context ctx = context(Kind::kSse);
  const std::string pretty = "{\n  \"type\": \"message\",\r\n  \"data\": [1,\r2]\n}";
  std::string stream = preamble(ctx, kHello, "n:E-0");
  appendFrame(stream, ctx, "message", pretty, "n:E-1");
  appendFrame(stream, ctx, "heartbeat", kFrame, {});
  int retry = 0;
  const auto events = parseSse(stream, &retry);
  CHECK(retry == 2000);
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == "hello");
  CHECK(events[0].data == kHello);
  CHECK(events[0].id == "n:E-0");
  CHECK(events[1].type == "message");
  CHECK(events[1].id == "n:E-1");
  CHECK(parse(events[1].data) == parse(pretty));
  CHECK(events[2].type == "heartbeat");
  CHECK(events[2].data == kFrame);
  CHECK(events[2].id == "n:E-1"); // the last event id persists, as in browsers
}

#ifdef NDEBUG
TEST_CASE("SSE never writes a line break from an event name or id", "[transport]") {
  // Callers validate; release builds (asserts off) still drop the bad line rather than let it
  // inject fields.
  const Context ctx = context(Kind::kSse);
  CHECK(frame(ctx, "x\r\ndata: evil", "{}", "id\nevent: evil") == "data: {}\n\n");
}
#endif

// ---- iframe ----

TEST_CASE("iframe preamble: >= 2 KiB before the first script, then hello", "[transport]") {
  const Context ctx = context(Kind::kIframe);
  const std::string head = preamble(ctx, kHello, "news:E-0");
  const size_t first_script = head.find("<script");
  CHECK(first_script >= 2048);
  CHECK(head.rfind("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><!--", 0) == 0);
  CHECK(head.substr(first_script - 4, 4) == "-->\n");
  CHECK(count(head.substr(0, first_script), "-->") == 1); // one comment, closed once
  CHECK(head.substr(first_script) == "<script>parent.holdfast(" + kHello + ");</script>\n");
  CHECK(tail(ctx) == "</body></html>");
}

TEST_CASE("iframe frames call parent.<callback>", "[transport]") {
  Context ctx = context(Kind::kIframe);
  CHECK(frame(ctx, "heartbeat", kFrame) == "<script>parent.holdfast(" + kFrame + ");</script>\n");
  ctx.callback = "app.push";
  CHECK(frame(ctx, "heartbeat", "{\"a\":\"<&>\"}") ==
        "<script>parent.app.push({\"a\":\"\\u003c\\u0026\\u003e\"});</script>\n");
}

TEST_CASE("iframe frames cannot be broken out of by message data", "[transport]") {
  // Published JSON is sent as published: raw "</script>", "<!--", U+2028 and U+2029 can all be
  // inside its strings, and a pretty-printed value has raw line breaks.
  const std::string evil = "</script><script>alert(1)</script>";
  const std::string json = "{\"type\":\"message\",\"data\":{\"t\":\"" + evil +
                           "\",\r\n\"c\":\"<!-- <script>\",\"u\":\"\xE2\x80\xA8\xE2\x80\xA9\","
                           "\"amp\":\"&lt;\"},\"cursor\":\"n:E-1\"}";
  const Context ctx = context(Kind::kIframe);
  const std::string out = frame(ctx, "message", json);
  CHECK(count(out, "<script") == 1);
  CHECK(count(out, "</script") == 1);
  CHECK(count(out, "<!--") == 0);
  CHECK(count(out, "\xE2\x80\xA8") == 0);
  CHECK(count(out, "\xE2\x80\xA9") == 0);
  const auto calls = iframeCalls(out, "holdfast");
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].find_first_of("<>&\r\n") == std::string::npos);
  const auto doc = parse(calls[0]);
  CHECK(doc == parse(json));
  CHECK(doc["data"]["t"].GetString() == evil);
  CHECK(std::string(doc["data"]["u"].GetString()) == "\xE2\x80\xA8\xE2\x80\xA9");
}

// ---- multipart ----

TEST_CASE("multipart preamble, frames and tail: exact bytes", "[transport]") {
  const Context ctx = context(Kind::kMultipart);
  CHECK(preamble(ctx, kHello, "news:E-0") ==
        "--holdfast-B\r\nContent-Type: application/json\r\n\r\n" + kHello + "\r\n--holdfast-B");
  // Each frame ends with the delimiter that closes its own part: deliverable at once.
  CHECK(frame(ctx, "heartbeat", kFrame) ==
        "\r\nContent-Type: application/json\r\n\r\n" + kFrame + "\r\n--holdfast-B");
  CHECK(tail(ctx) == "--\r\n");
}

TEST_CASE("multipart stream is a valid RFC 2046 body", "[transport]") {
  const Context ctx = context(Kind::kMultipart);
  const std::string pretty = "{\r\n\"type\":\"message\",\n\"data\":\"\\r\\n--holdfast-B\"\r\n}";
  std::string body = preamble(ctx, kHello, "news:E-0");
  appendFrame(body, ctx, "message", pretty, "news:E-1");
  appendFrame(body, ctx, "heartbeat", kFrame, {});
  body += tail(ctx);
  const auto parts = multipartParts(body, ctx.boundary);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0] == kHello);
  CHECK(parts[1].find_first_of("\r\n") == std::string::npos); // raw CR/LF became spaces
  CHECK(parse(parts[1]) == parse(pretty));
  CHECK(parts[2] == kFrame);
}

TEST_CASE("multipart stream with no frames still closes properly", "[transport]") {
  const Context ctx = context(Kind::kMultipart);
  const auto parts = multipartParts(preamble(ctx, kHello, "c") + tail(ctx), ctx.boundary);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0] == kHello);
}

// ---- ndjson ----

TEST_CASE("ndjson: one frame per line", "[transport]") {
  const Context ctx = context(Kind::kNdjson);
  CHECK(preamble(ctx, kHello, "news:E-0") == kHello + "\n");
  CHECK(frame(ctx, "heartbeat", kFrame) == kFrame + "\n");
  CHECK(tail(ctx).empty());
}

TEST_CASE("ndjson never has a raw line break inside a frame", "[transport]") {
  const Context ctx = context(Kind::kNdjson);
  const std::string pretty = "{\r\n  \"type\": \"message\",\n  \"data\": [1,\r2]\n}";
  const std::string out = frame(ctx, "message", pretty);
  CHECK(out == "{    \"type\": \"message\",   \"data\": [1, 2] }\n");
  CHECK(out.find('\r') == std::string::npos);
  CHECK(count(out, "\n") == 1);
  CHECK(parse(std::string_view(out).substr(0, out.size() - 1)) == parse(pretty));
}
