// Unit tests of the load generator's HTTP, SSE and payload parsing (bench/loadgen/*.hpp).
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "../../../bench/loadgen/http_parser.hpp"
#include "../../../bench/loadgen/payload.hpp"
#include "../../../bench/loadgen/sse_parser.hpp"

using namespace loadgen;

namespace {
struct Collected {
  std::vector<int> statuses;
  std::string body;
  int complete = 0;
};
void wire(HttpResponseParser& p, Collected& c) {
  p.onHead = [&](const ResponseHead& h) { c.statuses.push_back(h.status); };
  p.onBody = [&](std::string_view b) { c.body.append(b); };
  p.onComplete = [&](const ResponseHead&) { ++c.complete; };
}
} // namespace

TEST_CASE("HttpResponseParser: Content-Length body fed byte by byte", "[loadgen]") {
  std::string wire_ = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nEtag: \"3\"\r\n\r\nhello";
  HttpResponseParser p;
  Collected c;
  wire(p, c);
  for (char ch : wire_)
    REQUIRE(p.feed(std::string_view(&ch, 1)));
  CHECK(c.complete == 1);
  CHECK(c.body == "hello");
  CHECK(p.head().header("etag") == "\"3\"");
  CHECK(p.head().keepAlive());
}

TEST_CASE("HttpResponseParser: chunked body and two responses in one read", "[loadgen]") {
  std::string w = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                  "HTTP/1.1 304 Not Modified\r\n\r\n";
  HttpResponseParser p;
  Collected c;
  wire(p, c);
  REQUIRE(p.feed(w));
  CHECK(c.complete == 2);
  CHECK(c.body == "abcde");
  CHECK(c.statuses == std::vector<int>{200, 304});
  CHECK(p.idle());
}

TEST_CASE("HttpResponseParser: close-delimited body ends at EOF; HTTP/1.0 not kept alive",
          "[loadgen]") {
  HttpResponseParser p;
  Collected c;
  wire(p, c);
  REQUIRE(p.feed("HTTP/1.0 200 OK\r\n\r\npart"));
  CHECK(c.complete == 0);
  CHECK_FALSE(p.head().keepAlive());
  CHECK(p.eof());
  CHECK(c.complete == 1);
  CHECK(c.body == "part");
}

TEST_CASE("HttpResponseParser: garbage is an error", "[loadgen]") {
  HttpResponseParser p;
  CHECK_FALSE(p.feed("SMTP ready\r\n"));
  CHECK(p.error());
}

TEST_CASE("SseParser: events across splits, comments ignored, CRLF accepted", "[loadgen]") {
  SseParser s;
  std::vector<SseEvent> got;
  s.onEvent = [&](const SseEvent& e) { got.push_back(e); };
  std::string stream =
      "retry: 2000\n\n: ping\n\nid: ch:E-1\r\nevent: message\r\ndata: {\"a\":1}\r\n\r\n"
      "data: x\ndata: y\n\n";
  for (size_t i = 0; i < stream.size(); i += 3)
    s.feed(std::string_view(stream).substr(i, 3));
  REQUIRE(got.size() == 2); // "retry:" alone is not an event we record
  CHECK(got[0].id == "ch:E-1");
  CHECK(got[0].event == "message");
  CHECK(got[0].data == "{\"a\":1}");
  CHECK_FALSE(got[1].hasId);
  CHECK(got[1].data == "x\ny");
}

TEST_CASE("forEachPayload finds bench payloads in Holdfast and Nchan bodies", "[loadgen]") {
  std::string hf =
      "{\"messages\":[{\"channel\":\"c\",\"id\":\"E-1\",\"data\":" + makePayload(1, 111) +
      "},{\"data\":" + makePayload(2, 222) + "}],\"cursor\":\"c:E-2\"}";
  std::vector<std::pair<uint64_t, int64_t>> got;
  forEachPayload(hf, [&](uint64_t s, int64_t t) { got.emplace_back(s, t); });
  REQUIRE(got.size() == 2);
  CHECK(got[0] == std::make_pair<uint64_t, int64_t>(1, 111));
  CHECK(got[1] == std::make_pair<uint64_t, int64_t>(2, 222));
  CHECK(lastCursor(hf) == "c:E-2");

  got.clear();
  forEachPayload("--b\r\n\r\n{\"seq\":7,\"t\":9}\r\n--b\r\n{\"seq\":x,\"t\":1}{\"seq\":8,\"t\":}",
                 [&](uint64_t s, int64_t t) { got.emplace_back(s, t); });
  REQUIRE(got.size() == 1);
  CHECK(got[0].first == 7);
}

TEST_CASE("urlEncode keeps unreserved characters only", "[loadgen]") {
  CHECK(urlEncode("room1:q3Zx-42,b:E-0") == "room1%3Aq3Zx-42%2Cb%3AE-0");
}
