// fcgi response side: ResponseParser over encoder output split at every byte, and the CGI head.
#include <catch2/catch.hpp>

#include <fastcgi.h>

#include <string>
#include <vector>

#include "fcgi/encoder.h"
#include "fcgi/response.h"

using namespace holdfast::fcgi;

namespace {

struct Collect : ResponseVisitor {
  std::string out, err;
  int stdout_ends = 0;
  std::vector<std::pair<uint16_t, uint32_t>> ended;
  uint8_t protocol_status = 255;
  void onStdout(uint16_t, std::string_view d) override { out += d; }
  void onStdoutEnd(uint16_t) override { ++stdout_ends; }
  void onStderr(uint16_t, std::string_view d) override { err += d; }
  void onEndRequest(uint16_t id, uint32_t app, uint8_t ps) override {
    ended.emplace_back(id, app);
    protocol_status = ps;
  }
};

std::string sampleResponse(const std::string& body) {
  std::string bytes;
  appendStdout(bytes, 1, "Status: 201 Created\r\nContent-Type: application/json\r\n\r\n");
  appendStdout(bytes, 1, body);
  appendStream(bytes, FCGI_STDERR, 1, "warn");
  appendEndOfStdout(bytes, 1);
  appendEndRequest(bytes, 1, 7, FCGI_REQUEST_COMPLETE);
  return bytes;
}

} // namespace

TEST_CASE("response parser: whole records, and split at every byte", "[fcgi][response]") {
  std::string body(70000, 'x'); // two STDOUT records (65535 + rest), both padded
  std::string bytes = sampleResponse(body);
  for (size_t step : {bytes.size(), size_t{1}, size_t{7}, size_t{4096}}) {
    INFO("step " << step);
    ResponseParser p;
    Collect c;
    for (size_t i = 0; i < bytes.size(); i += step)
      REQUIRE(p.feed(std::string_view(bytes).substr(i, step), c));
    CHECK(p.idle());
    CHECK(c.out == "Status: 201 Created\r\nContent-Type: application/json\r\n\r\n" + body);
    CHECK(c.err == "warn");
    CHECK(c.stdout_ends == 1);
    REQUIRE(c.ended.size() == 1);
    CHECK(c.ended[0] == std::make_pair(uint16_t{1}, uint32_t{7}));
    CHECK(c.protocol_status == FCGI_REQUEST_COMPLETE);
  }
}

TEST_CASE("response parser: a partial record waits for more", "[fcgi][response]") {
  std::string bytes;
  appendStdout(bytes, 3, "abc");
  ResponseParser p;
  Collect c;
  REQUIRE(p.feed(std::string_view(bytes).substr(0, 9), c));
  CHECK_FALSE(p.idle());
  CHECK(c.out.empty());
  REQUIRE(p.feed(std::string_view(bytes).substr(9), c));
  CHECK(c.out == "abc");
  CHECK(p.idle());
}

TEST_CASE("response parser: protocol errors are fatal", "[fcgi][response]") {
  Collect c;
  {
    ResponseParser p;
    std::string bytes;
    appendBeginRequest(bytes, 1, FCGI_RESPONDER, false); // a request-side record
    CHECK_FALSE(p.feed(bytes, c));
    CHECK(p.error().find("unexpected record type 1") != std::string::npos);
    CHECK_FALSE(p.feed("", c)); // stays failed
  }
  {
    ResponseParser p;
    std::string bytes("\x02\x06\x00\x01\x00\x00\x00\x00", 8);
    CHECK_FALSE(p.feed(bytes, c));
    CHECK(p.error() == "unsupported FastCGI version 2");
  }
  {
    ResponseParser p;
    std::string bytes;
    appendStream(bytes, FCGI_END_REQUEST, 1, "abc"); // END_REQUEST body must be 8 bytes
    CHECK_FALSE(p.feed(bytes, c));
    CHECK(p.error().find("FCGI_END_REQUEST with 3") != std::string::npos);
  }
  {
    ResponseParser p; // management replies are skipped
    std::string bytes;
    appendUnknownType(bytes, 42);
    appendGetValuesResult(bytes, {{"FCGI_MPXS_CONNS", "1"}});
    CHECK(p.feed(bytes, c));
  }
}

TEST_CASE("cgi response: status, headers and body", "[fcgi][response]") {
  CgiResponse r;
  REQUIRE(parseCgiResponse("Status: 404 Not Found\r\nContent-Type: application/json\r\n"
                           "X-Holdfast-Session:  abc \r\n\r\n{\"error\":1}\n",
                           r));
  CHECK(r.status == 404);
  REQUIRE(r.header("content-type"));
  CHECK(*r.header("content-type") == "application/json");
  CHECK(*r.header("X-Holdfast-Session") == "abc");
  CHECK(r.header("Missing") == nullptr);
  CHECK(r.body == "{\"error\":1}\n");

  REQUIRE(parseCgiResponse("Content-Type: text/plain\n\nhello", r)); // LF only, no Status
  CHECK(r.status == 200);
  CHECK(r.body == "hello");

  CHECK_FALSE(parseCgiResponse("Status: 200 OK\r\n", r));    // head not complete
  CHECK_FALSE(parseCgiResponse("no colon here\r\n\r\n", r)); // not a header line
  CHECK_FALSE(parseCgiResponse("Status: 2x0\r\n\r\n", r));   // bad status
  CHECK_FALSE(parseCgiResponse("Status: 2000\r\n\r\n", r));  // four digits
}
