// Subscribe request parsing.
#include "app/subscribe_request.h"

#include <algorithm>
#include <charconv>

#include "auth/access.h"

namespace holdfast::app {
namespace {

using transport::Kind;

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

std::optional<BadRequest> parseTransport(Context& ctx, const Request& request, const http::Query& q,
                                         Subscribe& s) {
  s.ctx.kind = transportFromAccept(request.in->accept);
  if (const std::string* t = q.get("transport")) {
    auto kind = transport::parseKind(*t);
    if (!kind)
      return BadRequest{400,
                        "bad_transport",
                        "unknown transport \"" + *t +
                            "\" (longpoll, poll, jsonp, sse, iframe, multipart, ndjson)",
                        {}};
    s.ctx.kind = *kind;
  }
  if (const std::string* cb = q.get("callback")) {
    if (!transport::isValidCallback(*cb))
      return BadRequest{
          400, "bad_callback", "callback must match ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$", {}};
    s.ctx.callback = *cb;
  }
  if (s.ctx.kind == Kind::kJsonp && s.ctx.callback.empty())
    return BadRequest{400, "bad_callback", "transport=jsonp needs a callback parameter", {}};
  if (s.ctx.kind == Kind::kIframe && s.ctx.callback.empty())
    s.ctx.callback = "holdfast";
  if (s.ctx.kind == Kind::kMultipart)
    s.ctx.boundary = transport::makeBoundary(ctx.random);
  return std::nullopt;
}

// cursor= (or last_event_id=, or the Last-Event-ID header), since=, last=.
std::optional<BadRequest> parsePosition(Context& ctx, const Request& request, const http::Query& q,
                                        Subscribe& s) {
  const std::string* text = q.get("cursor");
  if (!text)
    text = q.get("last_event_id");
  if (!text && !request.in->last_event_id.empty())
    text = &request.in->last_event_id;
  if (text) {
    std::string error;
    auto cursor = hub::parseCursor(*text, error, ctx.config.max_channels_per_request);
    if (!cursor)
      return BadRequest{400, "bad_cursor", error, {}};
    s.cursor = std::move(*cursor);
  }
  if (const std::string* since = q.get("since")) {
    if (*since != "oldest")
      return BadRequest{400, "bad_since", "since accepts only \"oldest\"", {}};
    s.since_oldest = true;
  }
  const std::string* last = q.get("last");
  if (last && (!parseUint(*last, s.last_n) || s.last_n == 0 || s.last_n > ctx.config.batch_max))
    return BadRequest{
        400, "bad_last", "last must be 1.." + std::to_string(ctx.config.batch_max), {}};
  return std::nullopt;
}

// timeout= seconds, capped by poll_timeout (a larger value is not an error).
std::optional<BadRequest> parseTimeout(Context& ctx, const http::Query& q, Subscribe& s) {
  uint64_t timeout = ctx.config.poll_timeout;
  if (const std::string* t = q.get("timeout")) {
    if (!parseUint(*t, timeout))
      return BadRequest{400, "bad_timeout", "timeout must be a whole number of seconds", {}};
    timeout = std::min<uint64_t>(timeout, ctx.config.poll_timeout);
  }
  s.timeout_ms = static_cast<int64_t>(timeout) * 1000;
  return std::nullopt;
}

// Sessions expire session_ttl after their last request; Retry-After says so (at most 60 s).
BadRequest tooManySessions(Context& ctx) {
  ++ctx.stats.refused_sessions;
  uint64_t retry = std::clamp<uint64_t>(ctx.config.session_ttl, 1, 60);
  return BadRequest{503, "too_many_sessions",
                    "too many sessions: " + std::to_string(ctx.config.max_sessions) +
                        " are live (max_sessions); retry later or subscribe without a session",
                    "Retry-After: " + std::to_string(retry) + "\r\n"};
}

std::optional<BadRequest> parseSession(Context& ctx, const http::Query& q, Subscribe& s) {
  const std::string* id = q.get("session");
  if (!id)
    return std::nullopt;
  if (*id == "new") {
    if (ctx.sessions.size() >= ctx.config.max_sessions)
      return tooManySessions(ctx);
    s.session = ctx.sessions.create();
    s.new_session = true;
    return std::nullopt;
  }
  if (!session::SessionTable::isValidId(*id))
    return BadRequest{400, "bad_session", "session must be \"new\" or a server-issued id", {}};
  s.session = *id;
  if (ctx.sessions.directory().shared()) {
    s.resolve_session = true; // another node may have issued it: handleSubscribe asks
    return std::nullopt;
  }
  if (!ctx.sessions.find(*id))
    return BadRequest{404,
                      "unknown_session",
                      "session " + *id + " is unknown or expired; start one with session=new",
                      {}};
  return std::nullopt;
}

// The channel list below the mount; 404 outside the mount, 400 for a missing or bad list.
std::optional<BadRequest> parseChannels(Context& ctx, const Request& request, std::string_view path,
                                        Subscribe& s) {
  const std::string& mount = ctx.config.data_mount;
  std::string usage = "subscribe at " + mount + "/<channel>[,<channel>...]";
  if (!path.starts_with(mount) || (path.size() > mount.size() && path[mount.size()] != '/'))
    return BadRequest{404, "not_found", usage, {}};
  if (request.in->method != "GET")
    return BadRequest{405, "method_not_allowed", "subscribe with GET", "Allow: GET, OPTIONS\r\n"};
  if (path.size() <= mount.size() + 1)
    return BadRequest{400, "bad_channel", "no channel given: " + usage, {}};
  std::string error;
  auto channels = hub::parseChannelList(path.substr(mount.size() + 1), error,
                                        ctx.config.max_channels_per_request);
  if (!channels)
    return BadRequest{400, "bad_channel", error, {}};
  s.channels = std::move(*channels);
  return std::nullopt;
}

std::optional<BadRequest> checkPrivate(Context& ctx, const http::Query& q, const Subscribe& s) {
  auth::Denial denial;
  if (auth::allowPrivate(ctx.config, s.channels, q.get("token"), ctx.clock.wallMs() / 1000, denial))
    return std::nullopt;
  return BadRequest{denial.status, denial.code, denial.message, denial.extra};
}

} // namespace

std::optional<BadRequest> parseSubscribe(Context& ctx, const Request& request,
                                         const http::Target& target, Subscribe& s) {
  if (auto bad = parseChannels(ctx, request, target.path, s))
    return bad;
  std::string error;
  auto query = http::parseQuery(target.query, error);
  if (!query)
    return BadRequest{400, "bad_query", error, {}};
  if (auto bad = parseTransport(ctx, request, *query, s))
    return bad;
  if (auto bad = parsePosition(ctx, request, *query, s))
    return bad;
  if (auto bad = parseTimeout(ctx, *query, s))
    return bad;
  if (auto bad = checkPrivate(ctx, *query, s))
    return bad;
  return parseSession(ctx, *query, s);
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
    auto at = std::find_if(s.cursor.begin(), s.cursor.end(),
                           [&](const hub::Position& p) { return p.channel == ch; });
    if (at != s.cursor.end()) {
      st.mode = hub::Start::Mode::kCursor;
      st.position = *at;
    }
    starts.push_back(std::move(st));
  }
  return starts;
}

std::vector<hub::Start> startsAfter(const hub::Cursor& cursor) {
  std::vector<hub::Start> starts;
  starts.reserve(cursor.size());
  for (const auto& p : cursor)
    starts.push_back(hub::Start{p.channel, hub::Start::Mode::kCursor, 0, p});
  return starts;
}

} // namespace holdfast::app
