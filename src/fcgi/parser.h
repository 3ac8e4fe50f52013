// Incremental FastCGI record parser for the responder side. Pure: fed bytes, no I/O.
//
// The owner feeds whatever bytes arrived (any split, down to one byte at a time); the parser
// reassembles records and PARAMS streams and reports request events to a Visitor. Record layout
// and constants come from libfcgi's <fastcgi.h>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace holdfast::fcgi {

struct ParserLimits {
  size_t max_params_bytes = 64 * 1024; // whole PARAMS stream of one request (see onParamsTooLarge)
  size_t max_requests = 64;            // concurrently active request ids on one connection
};

// Receives parsed events. Callbacks run synchronously inside Parser::feed(); the visitor may
// call Parser::endRequest() from any callback but must not call feed() re-entrantly.
class Visitor {
public:
  virtual ~Visitor() = default;
  // A new request (role FCGI_RESPONDER, FCGI_AUTHORIZER or FCGI_FILTER as sent).
  virtual void onBeginRequest(uint16_t id, uint16_t role, bool keep_conn) = 0;
  // Called once per name-value pair when the PARAMS stream is complete, then onParamsEnd().
  virtual void onParam(uint16_t id, std::string_view name, std::string_view value) = 0;
  virtual void onParamsEnd(uint16_t id) = 0;
  // The PARAMS stream passed max_params_bytes: its pairs are dropped (none is reported) and
  // this is called instead, followed by onParamsEnd(). The request goes on (STDIN follows), so
  // the owner can answer it with an error (431) instead of losing the connection.
  virtual void onParamsTooLarge(uint16_t id) = 0;
  // A chunk of the STDIN stream (never empty), then onStdinEnd() at the empty record.
  virtual void onStdin(uint16_t id, std::string_view data) = 0;
  virtual void onStdinEnd(uint16_t id) = 0;
  virtual void onAbortRequest(uint16_t id) = 0;
  // FCGI_GET_VALUES (management record): the variable names asked for.
  virtual void onGetValues(const std::vector<std::string>& names) = 0;
  // A record of a type this side does not know; the owner answers FCGI_UNKNOWN_TYPE.
  virtual void onUnknownType(uint8_t type) = 0;
};

// Protocol errors are fatal for the connection: feed() returns false, error() says why, and the
// parser refuses further input. Records for request ids that are not active (never begun, or
// ended with endRequest()) are ignored, as the FastCGI spec asks, except that a second
// BEGIN_REQUEST for an active id is an error.
class Parser {
public:
  explicit Parser(ParserLimits limits = {}) : limits_(limits) {}

  // Consumes all of `bytes`. Returns false on a protocol error.
  bool feed(std::string_view bytes, Visitor& visitor);
  // Forget request `id` (after END_REQUEST was sent); later records for it are ignored.
  void endRequest(uint16_t id);
  bool isActive(uint16_t id) const;
  const std::string& error() const;
  // True when no partial record is buffered (useful to know the connection is idle).
  bool idle() const;

private:
  // Where the parser is inside the current record.
  enum class Stage : uint8_t {
    kHeader,  // collecting the 8-byte header into header_
    kContent, // collecting content_need_ more content bytes (into body_ if split)
    kPadding, // skipping padding_left_ padding bytes
  };
  // One active request id. Small on purpose: a held connection keeps one of these for hours.
  struct RequestState {
    std::string params; // PARAMS stream collected until its empty record, then freed
    uint16_t id = 0;
    bool params_done = false;
    bool params_overflow = false; // passed max_params_bytes: the rest is skipped
    bool stdin_done = false;
  };

  bool fail(std::string message);
  bool failRecord(std::string_view problem);
  void startNextRecord();
  bool takeHeader(std::string_view& bytes, Visitor& visitor);
  bool takeContent(std::string_view& bytes, Visitor& visitor);
  void skipPadding(std::string_view& bytes);
  bool finishContent(Visitor& visitor, std::string_view content);
  bool handleRecord(Visitor& visitor, std::string_view content);
  bool handleApplication(Visitor& visitor, std::string_view content);
  bool handleBegin(Visitor& visitor, std::string_view content);
  bool handleParams(Visitor& visitor, RequestState& state, std::string_view content);
  bool deliverParams(Visitor& visitor, uint16_t id, std::string_view params);
  bool handleStdin(Visitor& visitor, RequestState& state, std::string_view content);
  bool handleGetValues(Visitor& visitor, std::string_view content);
  RequestState* find(uint16_t id);
  uint8_t recordType() const;
  uint16_t recordId() const;

  ParserLimits limits_;
  unsigned char header_[8] = {}; // FCGI_Header of the current record
  uint8_t header_have_ = 0;
  uint8_t padding_left_ = 0;
  Stage stage_ = Stage::kHeader;
  bool failed_ = false;
  uint16_t content_need_ = 0;          // content bytes of the current record not yet seen
  std::string body_;                   // content of a record split across feed() calls, else empty
  std::vector<RequestState> requests_; // nearly always 0 or 1 entries
  std::unique_ptr<std::string> error_; // allocated only on failure: parsers live per connection
};

// Decodes a FastCGI name-value pair stream (PARAMS or GET_VALUES content). Calls `fn(name,
// value)` per pair. Returns false if the stream is malformed (truncated pair or length).
template <typename Fn> bool decodeNameValues(std::string_view data, Fn&& fn);

// Non-template core of decodeNameValues: `out` is replaced by the pairs, which view `data`.
bool decodeNameValuePairs(std::string_view data,
                          std::vector<std::pair<std::string_view, std::string_view>>& out);

template <typename Fn> bool decodeNameValues(std::string_view data, Fn&& fn) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  if (!decodeNameValuePairs(data, pairs))
    return false;
  for (auto& [n, v] : pairs)
    fn(n, v);
  return true;
}

} // namespace holdfast::fcgi
