// Subscribing: read the backlog from the engine, then answer or hold.
#include "app/subscribe.h"

#include "app/respond.h"
#include "app/session_lookup.h"
#include "app/subscribe_request.h"

namespace holdfast::app {
namespace {

using transport::Kind;

// Completes an older held request of the same session (409 / a "superseded" closed frame).
void supersede(Context& ctx, const session::HeldRef& previous) {
  Request* old = ctx.host.find(RequestRef{previous.conn_id, previous.serial});
  if (old && old->held)
    old->held->supersede();
}

void answerNow(Context& ctx, Request& request, const Subscribe& s, const hub::ReadResult& r) {
  transport::PollBody body;
  body.messages = &r.messages;
  body.gaps = &r.gaps;
  body.cursor = hub::formatCursor(r.cursor);
  body.session = s.session;
  body.more = r.more;
  ctx.stats.delivered += r.messages.size();
  // One request per session: an older held one is completed (409 / superseded).
  if (!s.session.empty()) {
    if (auto previous = ctx.sessions.touch(s.session, r.cursor, true))
      supersede(ctx, *previous);
  }
  respond(ctx, request, 200, transport::contentType(s.ctx), transport::renderPollBody(s.ctx, body),
          sessionHeader(s.session));
}

// Makes the request a held subscriber: subscribes it after `cursor`, ties it to its session
// (superseding an older held request of the same session) and frees the parsed input.
Held& hold(Context& ctx, Request& request, const Subscribe& s, hub::Cursor cursor) {
  request.held.emplace(ctx, request, s.ctx, cursor, s.session);
  Held& held = *request.held;
  ctx.engine.subscribe(held, cursor);
  if (!s.session.empty()) {
    RequestRef ref = request.ref();
    if (auto previous = ctx.sessions.attach(s.session, ref.conn_id, ref.serial))
      supersede(ctx, *previous);
  }
  return held;
}

void holdPoll(Context& ctx, Request& request, const Subscribe& s, const hub::ReadResult& r) {
  hold(ctx, request, s, r.cursor);
  ctx.host.addTimer(ctx.clock.nowMs() + s.timeout_ms, request.ref(), TimerKind::kPollTimeout);
  request.shrink();
}

void startStream(Context& ctx, Request& request, const Subscribe& s, const hub::ReadResult& r) {
  Held& held = hold(ctx, request, s, r.cursor);
  held.startStream(r, sessionHeader(s.session));
  held.armStreamTimer();
  request.shrink();
}

// The engine could not reach its storage (Redis down): nothing was read.
void unavailable(Context& ctx, Request& request) {
  respondError(ctx, request, 503, "unavailable", "message storage is unreachable; retry shortly",
               "Retry-After: 1\r\n");
}

// The read would have created channels past max_channels: 503, and a session this request
// issued is dropped again (it never served anything).
void refuseChannels(Context& ctx, Request& request, const Subscribe& s) {
  if (s.new_session)
    ctx.sessions.erase(s.session);
  respondTooManyChannels(ctx, request,
                         "too many channels (max_channels " +
                             std::to_string(ctx.config.max_channels) +
                             "): a channel of this request does not exist and none can be "
                             "created now; idle channels are collected, retry later");
}

// Streams catch up on the whole backlog before going live, batch by batch.
void catchUp(Context& ctx, RequestRef ref, Subscribe s, hub::ReadResult sofar) {
  if (sofar.too_many_channels) {
    ctx.resume(ref, [&](Request& request) { refuseChannels(ctx, request, s); });
    return;
  }
  if (!sofar.more) {
    ctx.resume(ref, [&](Request& request) { startStream(ctx, request, s, sofar); });
    return;
  }
  std::vector<hub::Start> starts = startsAfter(sofar.cursor);
  for (hub::Start& start : starts)
    start.waits = true; // a stream goes live from the cursor
  ctx.engine.read(std::move(starts), [&ctx, ref, s = std::move(s),
                                      sofar = std::move(sofar)](hub::ReadResult next) mutable {
    if (next.unavailable) {
      ctx.resume(ref, [&](Request& request) { unavailable(ctx, request); });
      return;
    }
    sofar.too_many_channels = next.too_many_channels;
    sofar.messages.insert(sofar.messages.end(), next.messages.begin(), next.messages.end());
    sofar.cursor = std::move(next.cursor);
    sofar.more = next.more;
    catchUp(ctx, ref, std::move(s), std::move(sofar));
  });
}

// While the process drains (shutdown or a completed hand-over), a new subscribe is told to
// reconnect with the cursor it brought, the same answer held requests got: a 200, so browsers'
// EventSource and the client's loops come back to the successor instead of failing.
void answerReconnect(Context& ctx, Request& request, const Subscribe& s) {
  std::string cursor = hub::formatCursor(s.cursor);
  if (!transport::isStreaming(s.ctx.kind)) {
    transport::PollBody body;
    std::vector<hub::MessagePtr> none;
    body.messages = &none;
    body.cursor = cursor;
    body.session = s.session;
    body.reconnect = true;
    respond(ctx, request, 200, transport::contentType(s.ctx),
            transport::renderPollBody(s.ctx, body),
            sessionHeader(s.session) + "Retry-After: 1\r\n");
    return;
  }
  std::string out = transport::preamble(
      s.ctx, transport::helloJson(s.session, cursor, static_cast<int>(ctx.config.heartbeat)),
      cursor);
  transport::appendFrame(out, s.ctx, "reconnect", transport::reconnectJson(cursor, "shutdown"),
                         cursor);
  out += transport::tail(s.ctx);
  respond(ctx, request, 200, transport::contentType(s.ctx), out, sessionHeader(s.session));
}

// True when the request is held if its read finds nothing: a stream, or a long-poll with a
// timeout (hub::Start::waits).
bool waitsWhenEmpty(const Subscribe& s) {
  Kind kind = s.ctx.kind;
  return transport::isStreaming(kind) || (kind != Kind::kPoll && s.timeout_ms != 0);
}

void answerOrHold(Context& ctx, Request& request, Subscribe& s, hub::ReadResult r) {
  if (r.too_many_channels)
    return refuseChannels(ctx, request, s);
  if (transport::isStreaming(s.ctx.kind)) {
    catchUp(ctx, request.ref(), std::move(s), std::move(r));
    return;
  }
  if (!waitsWhenEmpty(s) || !r.messages.empty() || !r.gaps.empty())
    answerNow(ctx, request, s, r);
  else
    holdPoll(ctx, request, s, r);
}

void readAndAnswer(Context& ctx, Request& request, Subscribe s) {
  std::vector<hub::Start> starts = startsFor(s);
  for (hub::Start& start : starts)
    start.waits = waitsWhenEmpty(s);
  ctx.engine.read(std::move(starts),
                  [&ctx, ref = request.ref(), s = std::move(s)](hub::ReadResult r) mutable {
                    ctx.resume(ref, [&](Request& req) {
                      if (r.unavailable)
                        unavailable(ctx, req);
                      else
                        answerOrHold(ctx, req, s, std::move(r));
                    });
                  });
}

// A session id with a shared directory: known on any node. The request takes the session
// over, so a request another node holds for it is superseded there.
void resolveThenRead(Context& ctx, Request& request, Subscribe s) {
  std::string id = s.session;
  resolveSession(ctx, id, [&ctx, ref = request.ref(), s = std::move(s)](Resolved r) mutable {
    ctx.resume(ref, [&](Request& req) {
      if (!r.session && r.unavailable)
        return unavailable(ctx, req);
      if (!r.session)
        return respondError(ctx, req, 404, "unknown_session",
                            "session " + s.session +
                                " is unknown or expired; start one with session=new");
      if (!r.owner.empty())
        ctx.sessions.directory().forward(r.owner,
                                         {session::Command::Kind::kSupersede, s.session, {}, {}});
      readAndAnswer(ctx, req, std::move(s));
    });
  });
}

} // namespace

void handleSubscribe(Context& ctx, Request& request, const http::Target& target) {
  Subscribe s;
  if (auto bad = parseSubscribe(ctx, request, target, s)) {
    respondError(ctx, request, bad->status, bad->code, bad->message, bad->extra);
    return;
  }
  if (ctx.host.shuttingDown()) {
    answerReconnect(ctx, request, s);
    return;
  }
  if (s.resolve_session)
    resolveThenRead(ctx, request, std::move(s));
  else
    readAndAnswer(ctx, request, std::move(s));
}

} // namespace holdfast::app
