// Transports: pure renderers turning frames and messages into the bytes of each Comet transport.
// No I/O and no timing here; the server decides when to render, and renders each published
// message once per transport kind for all subscribers that share a cursor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/hub.h"
#include "hub/message.h"
#include "util/random.h"

namespace holdfast::transport {

enum class Kind : uint8_t {
  kLongpoll,  // held JSON response
  kPoll,      // JSON response answered at once
  kJsonp,     // held response, CALLBACK({...});
  kSse,       // text/event-stream
  kIframe,    // forever iframe: <script>parent.CB(frame)</script>
  kMultipart, // multipart/x-mixed-replace, one JSON part per frame
  kNdjson,    // application/x-ndjson, one frame per line
};
constexpr size_t kKindCount = 7;

std::string_view kindName(Kind kind);
std::optional<Kind> parseKind(std::string_view name);
// Streaming transports stay open and carry frames; the others answer one JSON body.
bool isStreaming(Kind kind);

// ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$
bool isValidCallback(std::string_view name);

// Per-response rendering parameters.
struct Context {
  Kind kind = Kind::kLongpoll;
  std::string callback; // jsonp / iframe (default "holdfast" for iframe when none given)
  std::string boundary; // multipart: random per response, never in the data
  int retry_ms = 2000;  // SSE "retry:" value
};

// Content-Type header value (with charset / boundary where it applies).
std::string contentType(const Context& ctx);

// A multipart boundary: "holdfast-" + 24 URL-safe random characters (144 bits), so published
// data cannot guess it (and parts never contain CRLF anyway, see appendFrame).
std::string makeBoundary(util::Random& random);

// ---- Frame JSON (one JSON object with a "type"), shared by the streaming transports ----
std::string helloJson(std::string_view session, std::string_view cursor, int heartbeat_s);
// {"type":"message",<fields of message.json>,"cursor":"<cursor>"}
std::string messageFrameJson(const hub::Message& message, std::string_view cursor);
std::string heartbeatJson(int64_t time_ms);
std::string gapJson(const hub::Gap& gap); // {"type":"gap","channel",..,"requested",..}
std::string closedJson(std::string_view reason);
std::string deletedJson(std::string_view channel);
std::string reconnectJson(std::string_view cursor, std::string_view reason);
// JSON for a gap list entry (no "type"), used in poll bodies.
void appendGapObject(std::string& out, const hub::Gap& gap);

// ---- Streaming wire format ----
// The first body bytes, written together with the headers: SSE "retry:" then the hello event;
// iframe HTML head, >= 2 KiB padding and the hello script; multipart first boundary and hello
// part; ndjson hello line. `cursor` goes in the SSE id: line.
std::string preamble(const Context& ctx, std::string_view hello_json, std::string_view cursor);
// Appends one frame. `event` is the SSE event name (the frame type, or the message's event);
// `sse_id` the SSE id: line (empty = none). Other transports ignore both.
void appendFrame(std::string& out, const Context& ctx, std::string_view event,
                 std::string_view frame_json, std::string_view sse_id);
// Bytes that close a stream after its last frame (multipart closing boundary, iframe HTML end).
std::string tail(const Context& ctx);

// ---- One-shot bodies: longpoll, poll, jsonp ----
struct PollBody {
  const std::vector<hub::MessagePtr>* messages = nullptr;
  std::string cursor;
  const std::vector<hub::Gap>* gaps = nullptr;
  std::string session;    // omitted when empty
  bool heartbeat = false; // timeout with no messages
  bool more = false;      // batch limit cut the backlog
  bool reconnect = false; // server going away: reconnect with the cursor ("reconnect":true)
  std::string closed;     // session closed from the control socket: "closed":"<reason>"
};
// {"messages":[...],"cursor":"..","gap":[...],"session":"..","heartbeat":true,"more":true}
// (gap/session/heartbeat/more/reconnect/closed only when set). For jsonp wrapped as
// "/**/CB({...});".
std::string renderPollBody(const Context& ctx, const PollBody& body);

// Escapes a JSON text for embedding in an HTML <script>: '<', '>', '&', U+2028, U+2029 become
// \u escapes (valid because in valid JSON they only occur inside strings).
// Raw CR/LF (only possible as insignificant whitespace) become spaces.
std::string escapeForScript(std::string_view json);
// Same, appended to `out` (no temporary).
void appendEscapedForScript(std::string& out, std::string_view json);

} // namespace holdfast::transport
