// Streaming wire formats: SSE, forever iframe, multipart/x-mixed-replace and ndjson.
//
// A stream is preamble(hello), then appendFrame() per frame, then (optionally) tail(). Each frame
// is complete in the bytes appendFrame writes, so the client can act on it at once; nothing of
// a frame waits for the next one. Frame JSON is valid JSON, so a raw CR or LF in it can only be
// insignificant whitespace (from a pretty-printed published value), never part of a string.
//
// SSE (text/event-stream):
//   preamble  "retry: <retry_ms>\n" "id: <cursor>\n" "event: hello\n" "data: <hello>\n" "\n"
//   frame     ["id: <sse_id>\n"] ["event: <event>\n"] "data: <line>\n"... "\n"
//             one data: line per CR / LF / CRLF separated line of the JSON; EventSource joins
//             them with "\n", which is the same JSON value.
// iframe (text/html; charset=utf-8):
//   preamble  "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>"
//             "<!--....-->\n" (padding: exactly kIframePadTo bytes precede the first <script>)
//             then the hello frame
//   frame     "<script>parent.<callback>(<escapeForScript(json)>);</script>\n"
//   tail      "</body></html>"
// multipart (multipart/x-mixed-replace; boundary=<b>):
//   preamble  "--<b>\r\n" "Content-Type: application/json\r\n\r\n" "<hello>" "\r\n--<b>"
//   frame     "\r\n" "Content-Type: application/json\r\n\r\n" "<json>" "\r\n--<b>"
//   tail      "--\r\n"
//   Every write ends with the delimiter "\r\n--<b>" that closes the part it carries, so a
//   reader delivers each part as soon as it arrives; the next write continues that delimiter
//   line with "\r\n" (another part follows) and the tail with "--\r\n" (close-delimiter), which
//   makes the whole body valid RFC 2046 multipart. CR/LF in the JSON become spaces, so
//   "\r\n--<b>" can never occur inside a part, whatever the data.
// ndjson (application/x-ndjson):
//   preamble  "<hello>\n"
//   frame     "<json>\n" with any raw CR/LF in the JSON replaced by ' ' (one frame = one line)
#include <cassert>

#include "transport/transport.h"

namespace holdfast::transport {
namespace {

constexpr std::string_view kIframeHead =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>";
// Browsers buffer the first 1-2 KiB of a document before running scripts in it.
constexpr size_t kIframePadTo = 2048;
constexpr std::string_view kPartHeader = "Content-Type: application/json\r\n\r\n";

constexpr bool isLineBreak(char c) {
  return c == '\r' || c == '\n';
}

std::string_view callbackOf(const Context& ctx) {
  assert(ctx.callback.empty() || isValidCallback(ctx.callback));
  return ctx.callback.empty() ? std::string_view("holdfast") : std::string_view(ctx.callback);
}

// Appends `json` with every raw CR/LF replaced by a space.
void appendOneLine(std::string& out, std::string_view json) {
  size_t start = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    if (!isLineBreak(json[i]))
      continue;
    out.append(json.data() + start, i - start);
    out.push_back(' ');
    start = i + 1;
  }
  out.append(json.data() + start, json.size() - start);
}

// "data: <line>\n" for every CR, LF or CRLF separated line of `json`.
void appendSseData(std::string& out, std::string_view json) {
  size_t start = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    if (!isLineBreak(json[i]))
      continue;
    out.append("data: ", 6);
    out.append(json.data() + start, i - start);
    out.push_back('\n');
    if (json[i] == '\r' && i + 1 < json.size() && json[i + 1] == '\n')
      ++i;
    start = i + 1;
  }
  out.append("data: ", 6);
  out.append(json.data() + start, json.size() - start);
  out.push_back('\n');
}

void appendSse(std::string& out, std::string_view event, std::string_view json,
               std::string_view sse_id) {
  // Callers validate event names (isValidEventName) and cursors hold no CR/LF; a line break
  // here would let data inject SSE fields, so release builds drop such a line rather than
  // write it.
  assert(event.empty() || hub::isValidEventName(event));
  assert(sse_id.find_first_of("\r\n") == std::string_view::npos);
  out.reserve(out.size() + json.size() + event.size() + sse_id.size() + 32);
  if (!sse_id.empty() && sse_id.find_first_of("\r\n") == std::string_view::npos) {
    out.append("id: ", 4);
    out.append(sse_id);
    out.push_back('\n');
  }
  if (!event.empty() && hub::isValidEventName(event)) {
    out.append("event: ", 7);
    out.append(event);
    out.push_back('\n');
  }
  appendSseData(out, json);
  out.push_back('\n');
}

void appendIframe(std::string& out, std::string_view callback, std::string_view json) {
  out.reserve(out.size() + json.size() + callback.size() + 48);
  out.append("<script>parent.", 15);
  out.append(callback);
  out.push_back('(');
  appendEscapedForScript(out, json);
  out.append(");</script>\n", 12);
}

// One part after its delimiter line: headers, body and the delimiter that closes it.
void appendPart(std::string& out, std::string_view boundary, std::string_view json) {
  assert(!boundary.empty());
  out.reserve(out.size() + json.size() + boundary.size() + 48);
  out.append(kPartHeader);
  appendOneLine(out, json);
  out.append("\r\n--", 4);
  out.append(boundary);
}

void appendNdjson(std::string& out, std::string_view json) {
  out.reserve(out.size() + json.size() + 1);
  appendOneLine(out, json);
  out.push_back('\n');
}

// The iframe document start, padded so exactly kIframePadTo bytes precede the first <script>.
void appendIframeHead(std::string& out) {
  constexpr std::string_view kOpen = "<!--", kClose = "-->\n";
  static_assert(kIframeHead.size() + kOpen.size() + kClose.size() < kIframePadTo);
  out.append(kIframeHead);
  out.append(kOpen);
  out.append(kIframePadTo - kIframeHead.size() - kOpen.size() - kClose.size(), '.');
  out.append(kClose);
}

} // namespace

std::string preamble(const Context& ctx, std::string_view hello_json, std::string_view cursor) {
  std::string out;
  switch (ctx.kind) {
  case Kind::kSse:
    out = "retry: " + std::to_string(ctx.retry_ms) + "\n";
    appendSse(out, "hello", hello_json, cursor);
    break;
  case Kind::kIframe:
    out.reserve(kIframePadTo + hello_json.size() + 64);
    appendIframeHead(out);
    appendIframe(out, callbackOf(ctx), hello_json);
    break;
  case Kind::kMultipart:
    out = "--" + ctx.boundary + "\r\n";
    appendPart(out, ctx.boundary, hello_json);
    break;
  case Kind::kNdjson:
    appendNdjson(out, hello_json);
    break;
  case Kind::kLongpoll:
  case Kind::kPoll:
  case Kind::kJsonp:
    assert(!"preamble() is for streaming transports");
    break;
  }
  return out;
}

void appendFrame(std::string& out, const Context& ctx, std::string_view event,
                 std::string_view frame_json, std::string_view sse_id) {
  switch (ctx.kind) {
  case Kind::kSse:
    appendSse(out, event, frame_json, sse_id);
    return;
  case Kind::kIframe:
    appendIframe(out, callbackOf(ctx), frame_json);
    return;
  case Kind::kMultipart:
    out.append("\r\n", 2); // ends the delimiter line the previous write left open
    appendPart(out, ctx.boundary, frame_json);
    return;
  case Kind::kNdjson:
    appendNdjson(out, frame_json);
    return;
  case Kind::kLongpoll:
  case Kind::kPoll:
  case Kind::kJsonp:
    assert(!"appendFrame() is for streaming transports");
    return;
  }
}

std::string tail(const Context& ctx) {
  switch (ctx.kind) {
  case Kind::kIframe:
    return "</body></html>";
  case Kind::kMultipart:
    return "--\r\n";
  default:
    return {};
  }
}

} // namespace holdfast::transport
