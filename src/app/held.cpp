// Held data requests: long-poll answers and stream frames.
#include "app/held.h"

#include <cassert>
#include <memory>

#include "app/context.h"
#include "app/respond.h"

namespace holdfast::app {

using transport::Kind;

Held::Held(Context& app, Request& request, transport::Context ctx, hub::Cursor cursor,
           std::string session)
    : app_(app), request_(request), serial_(request.ref().serial), ctx_(std::move(ctx)),
      cursor_(std::move(cursor)), session_(std::move(session)) {
  ++app_.stats.held[static_cast<size_t>(ctx_.kind)];
}

Held::~Held() {
  app_.engine.unsubscribeAll(*this);
  --app_.stats.held[static_cast<size_t>(ctx_.kind)];
  if (!session_.empty())
    app_.sessions.detach(session_, serial_, cursor_);
}

void Held::advance(const hub::Message& message) {
  for (auto& p : cursor_) {
    if (p.channel == message.channel) {
      p.epoch = message.epoch;
      p.seq = message.seq;
      return;
    }
  }
}

void Held::addPosition(const hub::Position& position) {
  for (auto& p : cursor_) {
    if (p.channel == position.channel)
      return;
  }
  cursor_.push_back(position);
}

void Held::removePosition(std::string_view channel) {
  std::erase_if(cursor_, [&](const hub::Position& p) { return p.channel == channel; });
}

// The bytes of one message for this subscriber: a stream frame, or a long-poll answer's whole
// CGI response (header block and body). Subscribers whose cursor has only the message's channel
// share one rendering per transport, callback and (long-poll) CORS origin; multi-channel
// cursors key on the cursor text. Multipart frames carry a per-response boundary: never shared.
SharedBytes Held::messageBytes(const hub::MessagePtr& message) {
  assert(streaming() || session_.empty()); // session long-polls answer through answerPoll
  auto render = [&] { return renderMessage(message); };
  if (ctx_.kind == Kind::kMultipart)
    return std::make_shared<const std::string>(render());
  std::string multi = cursor_.size() == 1 ? std::string() : hub::formatCursor(cursor_);
  FrameKey key{multi, ctx_.callback, {}};
  if (!streaming() && originAllowed(app_.config, request_.origin))
    key.origin = request_.origin;
  return app_.frames.get(ctx_.kind, message, key, render);
}

std::string Held::renderMessage(const hub::MessagePtr& message) const {
  std::string cursor = hub::formatCursor(cursor_);
  std::string out;
  if (streaming()) {
    transport::appendFrame(out, ctx_, message->event, transport::messageFrameJson(*message, cursor),
                           cursor);
    return out;
  }
  std::vector<hub::MessagePtr> one{message};
  transport::PollBody body;
  body.messages = &one;
  body.cursor = cursor;
  out = headerBlock(app_.config, request_, 200, transport::contentType(ctx_));
  out += transport::renderPollBody(ctx_, body);
  return out;
}

bool Held::deliver(const hub::MessagePtr& message) {
  if (done_ || request_.ended())
    return false;
  advance(*message);
  ++app_.stats.delivered;
  if (streaming()) {
    request_.writeShared(messageBytes(message), false);
    return true;
  }
  if (!session_.empty()) {
    answerPoll({message}, false, {});
    return true;
  }
  done_ = true;
  ++app_.stats.responses[200];
  request_.writeShared(messageBytes(message), true);
  return true;
}

void Held::answerPoll(const std::vector<hub::MessagePtr>& messages, bool heartbeat,
                      std::string_view closed) {
  done_ = true;
  transport::PollBody body;
  body.messages = &messages;
  body.cursor = hub::formatCursor(cursor_);
  body.session = session_;
  body.heartbeat = heartbeat;
  body.closed = std::string(closed);
  std::string extra = sessionHeader(session_);
  respond(app_, request_, 200, transport::contentType(ctx_), transport::renderPollBody(ctx_, body),
          extra);
}

void Held::sendFrame(std::string_view event, std::string_view json, std::string_view sse_id) {
  std::string out;
  transport::appendFrame(out, ctx_, event, json, sse_id);
  request_.write({out});
}

void Held::endStream(std::string_view event, std::string_view json, std::string_view sse_id) {
  done_ = true;
  std::string out;
  transport::appendFrame(out, ctx_, event, json, sse_id);
  out += transport::tail(ctx_);
  request_.finish({out});
}

void Held::channelDeleted(const std::string& channel) {
  if (done_ || request_.ended())
    return;
  if (streaming()) {
    endStream("deleted", transport::deletedJson(channel), {});
    return;
  }
  done_ = true;
  respondError(app_, request_, 410, "channel_deleted", "channel " + channel + " was deleted");
}

void Held::gap(const hub::Gap& gap) {
  if (done_ || request_.ended())
    return;
  if (streaming())
    sendFrame("gap", transport::gapJson(gap), {});
  else
    answerPoll({}, false, {});
}

void Held::startStream(const hub::ReadResult& backlog, std::string_view extra_headers) {
  std::string cursor_text = hub::formatCursor(backlog.cursor);
  std::string out =
      headerBlock(app_.config, request_, 200, transport::contentType(ctx_), extra_headers);
  out += transport::preamble(
      ctx_, transport::helloJson(session_, cursor_text, static_cast<int>(app_.config.heartbeat)),
      cursor_text);
  for (const auto& gap : backlog.gaps)
    transport::appendFrame(out, ctx_, "gap", transport::gapJson(gap), {});
  // The backlog frames carry the cursor after each message, so a reconnect resumes exactly.
  // Each backlog frame carries the cursor after it: start every channel just before its first
  // backlog message, then advance message by message.
  hub::Cursor running = backlog.cursor;
  for (auto& p : running) {
    for (const auto& m : backlog.messages) {
      if (m->channel == p.channel) {
        p.epoch = m->epoch;
        p.seq = m->seq - 1;
        break;
      }
    }
  }
  for (const auto& m : backlog.messages) {
    for (auto& p : running) {
      if (p.channel == m->channel) {
        p.epoch = m->epoch;
        p.seq = m->seq;
      }
    }
    std::string c = hub::formatCursor(running);
    transport::appendFrame(out, ctx_, m->event, transport::messageFrameJson(*m, c), c);
  }
  cursor_ = backlog.cursor;
  app_.stats.delivered += backlog.messages.size();
  ++app_.stats.responses[200];
  request_.headers_sent = true;
  request_.write({out});
}

void Held::onPollTimeout() {
  if (done_ || streaming())
    return;
  answerPoll({}, true, {});
}

void Held::armStreamTimer() {
  int64_t now = app_.clock.nowMs();
  if (expires_ms_ == 0)
    expires_ms_ = now + static_cast<int64_t>(app_.config.max_stream_age) * 1000;
  int64_t next = now + static_cast<int64_t>(app_.config.heartbeat) * 1000;
  app_.host.addTimer(std::min(next, expires_ms_), request_.ref(), TimerKind::kStream);
}

void Held::onStreamTimer() {
  if (done_ || !streaming())
    return;
  if (app_.clock.nowMs() >= expires_ms_) {
    std::string cursor = hub::formatCursor(cursor_);
    endStream("reconnect", transport::reconnectJson(cursor, "max_stream_age"), cursor);
    return;
  }
  sendFrame("heartbeat", transport::heartbeatJson(app_.clock.wallMs()), {});
  armStreamTimer();
}

void Held::reconnect(std::string_view reason) {
  if (done_)
    return;
  std::string cursor = hub::formatCursor(cursor_);
  if (streaming()) {
    endStream("reconnect", transport::reconnectJson(cursor, reason), cursor);
    return;
  }
  done_ = true;
  transport::PollBody body;
  std::vector<hub::MessagePtr> none;
  body.messages = &none;
  body.cursor = cursor;
  body.session = session_;
  body.reconnect = true;
  respond(app_, request_, 200, transport::contentType(ctx_), transport::renderPollBody(ctx_, body),
          "Retry-After: 1\r\n");
}

void Held::closeSession() {
  if (done_)
    return;
  if (streaming()) {
    endStream("closed", transport::closedJson("session closed"), {});
    return;
  }
  answerPoll({}, false, "session closed");
}

void Held::supersede() {
  if (done_)
    return;
  if (streaming()) {
    endStream("closed", transport::closedJson("superseded"), {});
    return;
  }
  done_ = true;
  respondError(app_, request_, 409, "session_taken_over",
               "a newer request took over session " + session_);
}

} // namespace holdfast::app
