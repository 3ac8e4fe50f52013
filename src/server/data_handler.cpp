// The data socket: one subscribe URL for every transport.
#include <charconv>
#include <string>

#include "hub/cursor.h"
#include "server/connection.h"
#include "server/handlers.h"
#include "server/held.h"
#include "server/respond.h"
#include "server/server.h"
#include "server/sessions.h"
#include "server/tokens.h"
#include "transport/transport.h"

namespace holdfast::server {
namespace {

using transport::Kind;

// Everything a subscribe request asked for, validated.
struct Subscribe {
  std::vector<std::string> channels;
  transport::Context ctx;
  hub::Cursor cursor;
  bool since_oldest = false;
  uint64_t last_n = 0;
  int64_t timeout_ms = 0;
  std::string session;      // existing or newly issued id; empty = none
  bool new_session = false;
};

struct BadRequest {
  int status = 400;
  std::string code;
  std::string message;
};

bool parseUint(std::string_view text, uint64_t& out) {
  if (text.empty())
    return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

Kind transportFromAccept(std::string_view accept) {
  if (accept.find("text/event-stream") != std::string_view::npos)
    return Kind::kSse;
  if (accept.find("multipart/x-mixed-replace") != std::string_view::npos ||
      accept.find("multipart/mixed") != std::string_view::npos)
    return Kind::kMultipart;
  return Kind::kLongpoll;
}

std::optional<BadRequest> parseTransport(Server& server, const Request& request,
                                         const http::Query& q, Subscribe& s) {
  s.ctx.kind = transportFromAccept(request.in->accept);
  if (const std::string* t = q.get("transport")) {
    auto kind = transport::parseKind(*t);
    if (!kind)
      return BadRequest{400, "bad_transport",
                        "unknown transport \"" + *t +
                            "\" (longpoll, poll, jsonp, sse, iframe, multipart, ndjson)"};
    s.ctx.kind = *kind;
  }
  if (const std::string* cb = q.get("callback")) {
    if (!transport::isValidCallback(*cb))
      return BadRequest{400, "bad_callback",
                        "callback must match ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$"};
    s.ctx.callback = *cb;
  }
  if (s.ctx.kind == Kind::kJsonp && s.ctx.callback.empty())
    return BadRequest{400, "bad_callback", "transport=jsonp needs a callback parameter"};
  if (s.ctx.kind == Kind::kIframe && s.ctx.callback.empty())
    s.ctx.callback = "holdfast";
  if (s.ctx.kind == Kind::kMultipart)
    s.ctx.boundary = transport::makeBoundary(server.random());
  return std::nullopt;
}

std::optional<BadRequest> parsePosition(Server& server, const Request& request,
                                        const http::Query& q, Subscribe& s) {
  const std::string* text = q.get("cursor");
  if (!text)
    text = q.get("last_event_id");
  if (!text && !request.in->last_event_id.empty())
    text = &request.in->last_event_id;
  if (text) {
    std::string error;
    auto cursor = hub::parseCursor(*text, error, server.config().max_channels_per_request);
    if (!cursor)
      return BadRequest{400, "bad_cursor", error};
    s.cursor = std::move(*cursor);
  }
  if (const std::string* since = q.get("since")) {
    if (*since != "oldest")
      return BadRequest{400, "bad_since", "since accepts only \"oldest\""};
    s.since_oldest = true;
  }
  if (const std::string* last = q.get("last")) {
    if (!parseUint(*last, s.last_n) || s.last_n == 0 || s.last_n > server.config().batch_max)
      return BadRequest{400, "bad_last",
                        "last must be 1.." + std::to_string(server.config().batch_max)};
  }
  uint64_t cap = server.config().poll_timeout;
  uint64_t timeout = cap;
  if (const std::string* t = q.get("timeout")) {
    if (!parseUint(*t, timeout))
      return BadRequest{400, "bad_timeout", "timeout must be a whole number of seconds"};
    timeout = std::min(timeout, cap);  // capped by config, not an error
  }
  s.timeout_ms = static_cast<int64_t>(timeout) * 1000;
  return std::nullopt;
}

std::optional<BadRequest> parseSession(Server& server, const http::Query& q, Subscribe& s) {
  const std::string* id = q.get("session");
  if (!id)
    return std::nullopt;
  if (*id == "new") {
    s.session = server.sessions().create();
    s.new_session = true;
    return std::nullopt;
  }
  if (!SessionTable::isValidId(*id))
    return BadRequest{400, "bad_session", "session must be \"new\" or a server-issued id"};
  if (!server.sessions().find(*id))
    return BadRequest{404, "unknown_session",
                      "session " + *id + " is unknown or expired; start one with session=new"};
  s.session = *id;
  return std::nullopt;
}

std::optional<BadRequest> checkPrivate(Server& server, const http::Query& q, const Subscribe& s) {
  const std::string& prefix = server.config().private_prefix;
  for (const auto& ch : s.channels) {
    if (prefix.empty() || ch.compare(0, prefix.size(), prefix) != 0)
      continue;
    const std::string* token = q.get("token");
    if (!token)
      return BadRequest{403, "token_required", "channel " + ch + " is private: a token is needed"};
    std::string why;
    if (!verifySubscribeToken(server.config().token_key, *token, ch,
                              server.clock().wallMs() / 1000, why))
      return BadRequest{403, "bad_token", why};
  }
  return std::nullopt;
}

std::optional<BadRequest> parseSubscribe(Server& server, const Request& request,
                                         const http::Target& target, Subscribe& s) {
  const std::string& mount = server.config().data_mount;
  if (target.path.size() <= mount.size() + 1 || target.path.compare(0, mount.size(), mount) != 0 ||
      target.path[mount.size()] != '/')
    return BadRequest{404, "not_found", "subscribe at " + mount + "/<channel>[,<channel>...]"};
  if (request.in->method != "GET")
    return BadRequest{405, "method_not_allowed", "subscribe with GET"};
  std::string error;
  auto channels = hub::parseChannelList(std::string_view(target.path).substr(mount.size() + 1),
                                        error, server.config().max_channels_per_request);
  if (!channels)
    return BadRequest{400, "bad_channel", error};
  s.channels = std::move(*channels);
  auto query = http::parseQuery(target.query, error);
  if (!query)
    return BadRequest{400, "bad_query", error};
  if (auto bad = parseTransport(server, request, *query, s))
    return bad;
  if (auto bad = parsePosition(server, request, *query, s))
    return bad;
  if (auto bad = checkPrivate(server, *query, s))
    return bad;
  return parseSession(server, *query, s);
}

std::vector<hub::Start> startsFor(const Subscribe& s) {
  std::vector<hub::Start> starts;
  for (const auto& ch : s.channels) {
    hub::Start st;
    st.channel = ch;
    if (s.last_n > 0) {
      st.mode = hub::Start::Mode::kLast;
      st.last_n = s.last_n;
    } else if (s.since_oldest) {
      st.mode = hub::Start::Mode::kOldest;
    }
    for (const auto& p : s.cursor) {
      if (p.channel == ch) {
        st.mode = hub::Start::Mode::kCursor;
        st.position = p;
      }
    }
    starts.push_back(std::move(st));
  }
  return starts;
}

// Completes an older held request of the same session (409 / a "superseded" closed frame).
void supersede(Server& server, const HeldRef& previous) {
  Connection* old_conn = server.connection(previous.conn_id);
  Request* old = old_conn ? old_conn->findBySerial(previous.serial) : nullptr;
  if (old && old->held)
    old->held->supersede();
}

void answerNow(Server& server, Connection& conn, Request& request, const Subscribe& s,
               const hub::ReadResult& r) {
  transport::PollBody body;
  body.messages = &r.messages;
  body.gaps = &r.gaps;
  body.cursor = hub::formatCursor(r.cursor);
  body.session = s.session;
  body.more = r.more;
  server.stats().delivered += r.messages.size();
  std::string extra;
  if (!s.session.empty()) {
    extra = "X-Holdfast-Session: " + s.session + "\r\n";
    // One request per session: an older held one is completed (409 / superseded).
    if (auto previous = server.sessions().touch(s.session, r.cursor, true))
      supersede(server, *previous);
  }
  respond(server, conn, request, 200, transport::contentType(s.ctx),
          transport::renderPollBody(s.ctx, body), extra);
}

// Makes the request a held subscriber: subscribes it, ties it to its session (superseding an
// older held request of the same session with 409) and arms its timers.
Held& hold(Server& server, Connection& conn, Request& request, Subscribe& s, hub::Cursor cursor) {
  request.held.emplace(conn, request, s.ctx, std::move(cursor), s.session);
  Held& held = *request.held;
  for (const auto& ch : s.channels)
    server.hub().subscribe(held, server.hub().touch(ch));
  if (!s.session.empty()) {
    if (auto previous = server.sessions().attach(s.session, conn.id(), request.serial))
      supersede(server, *previous);
  }
  return held;
}

} // namespace

void handleData(Server& server, Connection& conn, Request& request, const http::Target& target) {
  Subscribe s;
  if (auto bad = parseSubscribe(server, request, target, s)) {
    respondError(server, conn, request, bad->status, bad->code, bad->message,
                 bad->status == 405 ? "Allow: GET, OPTIONS\r\n" : "");
    return;
  }
  hub::ReadResult r = server.hub().read(startsFor(s));
  Kind kind = s.ctx.kind;
  int64_t now = server.clock().nowMs();
  if (!transport::isStreaming(kind)) {
    if (kind == Kind::kPoll || !r.messages.empty() || !r.gaps.empty() || s.timeout_ms == 0) {
      answerNow(server, conn, request, s, r);
      return;
    }
    hold(server, conn, request, s, r.cursor);
    server.addTimer(now + s.timeout_ms, conn.id(), request.serial, TimerKind::kPollTimeout);
    request.shrink();
    return;
  }
  // Streams catch up on the whole backlog before going live, batch by batch.
  while (r.more) {
    hub::ReadResult next = server.hub().read([&] {
      std::vector<hub::Start> starts;
      for (const auto& p : r.cursor)
        starts.push_back(hub::Start{p.channel, hub::Start::Mode::kCursor, 0, p});
      return starts;
    }());
    r.messages.insert(r.messages.end(), next.messages.begin(), next.messages.end());
    r.cursor = std::move(next.cursor);
    r.more = next.more;
  }
  std::string extra;
  if (!s.session.empty())
    extra = "X-Holdfast-Session: " + s.session + "\r\n";
  Held& held = hold(server, conn, request, s, r.cursor);
  held.startStream(r, extra);
  held.armStreamTimer();
  request.shrink();
}

} // namespace holdfast::server
