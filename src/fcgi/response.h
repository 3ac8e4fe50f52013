// Client side of FastCGI: decodes what a responder sends back (STDOUT, STDERR, END_REQUEST)
// and splits the CGI response in STDOUT into status, headers and body. Pure: fed bytes, no I/O.
// Used by holdfastctl and tests; the server side is parser.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace holdfast::fcgi {

// Receives decoded records. Callbacks run synchronously inside ResponseParser::feed().
class ResponseVisitor {
public:
  virtual ~ResponseVisitor() = default;
  // A chunk of the STDOUT stream (never empty); onStdoutEnd() at its empty record.
  virtual void onStdout(uint16_t id, std::string_view data) = 0;
  virtual void onStdoutEnd(uint16_t id) = 0;
  // A chunk of the STDERR stream (never empty; its end is not reported).
  virtual void onStderr(uint16_t id, std::string_view data) = 0;
  // FCGI_END_REQUEST: the request is complete.
  virtual void onEndRequest(uint16_t id, uint32_t app_status, uint8_t protocol_status) = 0;
};

// Incremental record decoder for the web server's side of a connection. Accepts input split
// anywhere. Protocol errors (bad version, a request-side or unknown record type, a short
// END_REQUEST body) are fatal: feed() returns false and error() says why. Management records
// (request id 0: GET_VALUES_RESULT, UNKNOWN_TYPE) are skipped.
class ResponseParser {
public:
  bool feed(std::string_view bytes, ResponseVisitor& visitor);
  const std::string& error() const { return error_; }
  // True when no partial record is buffered.
  bool idle() const { return pending_.empty(); }

private:
  bool handleRecord(uint8_t type, uint16_t id, std::string_view content, ResponseVisitor& v);

  std::string pending_; // bytes of an incomplete record
  std::string error_;
};

// A CGI response as a responder writes it on STDOUT: header lines, a blank line, the body.
struct CgiResponse {
  int status = 200; // from "Status: NNN ...", 200 when absent (CGI/1.1)
  std::vector<std::pair<std::string, std::string>> headers; // in order, names as sent
  std::string body;

  // The first header named `name` (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

// Splits `stdout_bytes`. Lines may end in CRLF or LF. Returns false when the head is not
// complete (no blank line yet), a header line has no ':', or the Status is not 3 digits.
bool parseCgiResponse(std::string_view stdout_bytes, CgiResponse& out);

} // namespace holdfast::fcgi
